import { LruTable } from './lruTable.ts';

/** How one kind of key (a client address, or an account-and-address pair) is penalised. */
export interface BackoffPolicy {
  /** Failures allowed before any wait; 0 switches the table off. */
  readonly freeFailures: number;
  /** Wait after the first failure past the free ones, doubled with each further failure. */
  readonly backoffMs: number;
  /** Longest wait. */
  readonly maxBackoffMs: number;
  /** A key's failures are forgotten this long after its latest one (once its wait is over). */
  readonly windowMs: number;
}

interface Entry {
  failures: number;
  /** Attempts admitted whose password check has not finished: they count as failures until they do. */
  inFlight: number;
  lastFailureAt: number;
}

/**
 * Failures per key with exponential backoff, in the manner of Dovecot's auth_penalty: the first
 * `freeFailures` cost nothing, then each failure makes the key wait `backoffMs * 2^k` (at most
 * `maxBackoffMs`) before its next attempt is admitted. An attempt is reserved before the password is
 * checked, so simultaneous attempts cannot all slip through on the same count: past the free budget only
 * one attempt at a time is in flight, and only once the wait is over.
 */
export class PenaltyTable {
  private readonly entries: LruTable<Entry>;

  constructor(
    private readonly policy: BackoffPolicy,
    maxKeys: number,
  ) {
    this.entries = new LruTable<Entry>(maxKeys, (e) => e.inFlight === 0);
  }

  private get enabled(): boolean {
    return this.policy.freeFailures > 0;
  }

  /** When the key's current wait ends (0 while it is within its free failures). */
  private waitEnds(e: Entry): number {
    const over = e.failures - this.policy.freeFailures;
    if (over < 0) return 0;
    return e.lastFailureAt + Math.min(this.policy.backoffMs * 2 ** over, this.policy.maxBackoffMs);
  }

  private current(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.inFlight === 0 && now - e.lastFailureAt > this.policy.windowMs && now >= this.waitEnds(e)) {
      this.entries.delete(key); // nothing left to remember
      return undefined;
    }
    return e;
  }

  /** Milliseconds until the key may try again; 0 means an attempt could be reserved now. */
  waitFor(key: string, now: number): number {
    const e = this.enabled ? this.current(key, now) : undefined;
    if (!e || e.failures + e.inFlight < this.policy.freeFailures) return 0;
    // Past the budget with an attempt still running: its outcome decides the next wait.
    if (e.inFlight > 0) return this.policy.backoffMs;
    return Math.max(0, this.waitEnds(e) - now);
  }

  /**
   * Whether the key waits only for its own attempts in flight: within its free failures if they succeed. A
   * client opening several connections at once (a mail client's pool) then waits its turn instead of being
   * refused, and still no more than the free budget of password checks runs at a time.
   */
  onlyBusy(key: string, now: number): boolean {
    const e = this.enabled ? this.current(key, now) : undefined;
    return !!e && e.inFlight > 0 && e.failures < this.policy.freeFailures;
  }

  /** Reserves an attempt for the key: 0 when reserved, else the milliseconds to wait (nothing reserved). */
  reserve(key: string, now: number): number {
    if (!this.enabled) return 0;
    const wait = this.waitFor(key, now);
    if (wait > 0) return wait;
    const e = this.current(key, now) ?? { failures: 0, inFlight: 0, lastFailureAt: 0 };
    e.inFlight++;
    this.entries.set(key, e);
    return 0;
  }

  /** Ends a reserved attempt that proved nothing (a storage error): it does not count. */
  release(key: string): void {
    const e = this.entries.get(key);
    if (e && e.inFlight > 0) e.inFlight--;
  }

  /** Ends a reserved attempt as a failure. */
  fail(key: string, now: number): void {
    if (!this.enabled) return;
    const e = this.entries.get(key) ?? { failures: 0, inFlight: 1, lastFailureAt: 0 };
    e.inFlight = Math.max(0, e.inFlight - 1);
    e.failures++;
    e.lastFailureAt = now;
    this.entries.set(key, e);
  }

  /** Ends a reserved attempt as a success that forgives the key's failures. */
  clear(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.inFlight = Math.max(0, e.inFlight - 1);
    e.failures = 0;
    if (e.inFlight === 0) this.entries.delete(key);
  }
}
