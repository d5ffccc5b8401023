/**
 * Password authentication for every protocol that takes one (POP3 now; IMAP and SMTP submission next):
 * address + password checked against the Directory with verifyPassword, with brute-force protection.
 *
 * - Every failure is answered only after a delay (`failureDelayMs`), which slows guessing on one connection.
 * - Failures are counted per account and per client IP in a sliding window (`windowMs`). Once an account or
 *   an IP reaches its threshold, attempts for it are refused without checking the password, until
 *   `lockoutMs` after its latest failure ('throttled'; protocols answer with a temporary error such as
 *   POP3's [SYS/TEMP]). The per-IP threshold is higher: many users can share one address behind a NAT.
 * - A successful login clears the account's failures (not the IP's: one known password must not reset the
 *   counter an attacker is running against other accounts from the same address).
 * - Unknown users cost the same scrypt run as known ones (verification against a dummy hash), so response
 *   time does not tell whether an address exists.
 *
 * The counters live in this process's memory: each gateway task throttles on its own, so a client spreading
 * attempts over several tasks (the load balancer does) gets up to tasks x threshold tries per window.
 * Cross-task throttling would need the counters in the store (a DynamoDB item per account/IP with an atomic
 * ADD and a TTL). A per-account lockout also lets anyone lock an account out for `lockoutMs` by failing on
 * purpose; that is the usual trade-off, and the lockout is kept short.
 *
 * Settings (AuthConfig in lib/core/config.ts, read by loadConfig): POSTERN_AUTH_FAILURE_DELAY_MS (1000),
 * POSTERN_AUTH_MAX_FAILURES_ACCOUNT (5), POSTERN_AUTH_MAX_FAILURES_IP (20), POSTERN_AUTH_WINDOW_MS
 * (15 minutes), POSTERN_AUTH_LOCKOUT_MS (15 minutes).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { parseAddress } from '../core/address.ts';
import { hashPassword, verifyPassword } from '../core/password.ts';
import type { Account, Directory } from '../core/ports.ts';

export interface AuthenticatorOptions {
  readonly failureDelayMs: number;
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerIp: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  /** Most keys tracked in each table; the oldest are dropped past it (bounded memory under a spray attack). */
  readonly maxTrackedKeys: number;
}

export const DEFAULT_AUTHENTICATOR_OPTIONS: AuthenticatorOptions = {
  failureDelayMs: 1000,
  maxFailuresPerAccount: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
  maxTrackedKeys: 100_000,
};

export interface Credentials {
  /** What the client sent as user name (normalised here). */
  readonly username: string;
  readonly password: string;
  /** The client's address (after PROXY protocol), for per-IP throttling. */
  readonly remoteAddress: string;
}

export type AuthResult =
  | { readonly ok: true; readonly account: Account }
  /** Wrong user name or password (deliberately not told apart). */
  | { readonly ok: false; readonly reason: 'invalid' }
  /** Too many recent failures for this account or this IP; the password was not checked. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

export interface Authenticator {
  /** Throws only on storage failures (TemporaryError): the caller answers with a temporary error. */
  authenticate(credentials: Credentials): Promise<AuthResult>;
}

/** Recent failures and lockouts per key (an account address or an IP). */
class FailureTable {
  private readonly entries = new Map<string, { failures: number[]; lockedUntil: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly lockoutMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Milliseconds until the key may try again, 0 when it is not locked out. */
  lockedFor(key: string, now: number): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    if (entry.lockedUntil <= now && entry.failures.every((t) => t <= now - this.windowMs)) {
      this.entries.delete(key); // nothing left to remember
      return 0;
    }
    return Math.max(0, entry.lockedUntil - now);
  }

  record(key: string, now: number): void {
    if (this.max === 0) return; // 0 switches this table off
    const entry = this.entries.get(key) ?? { failures: [], lockedUntil: 0 };
    entry.failures = entry.failures.filter((t) => t > now - this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.max) {
      entry.lockedUntil = now + this.lockoutMs;
      entry.failures = [];
    }
    this.entries.delete(key); // re-insert: Map order is then least recently failed first
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

let dummyHash: Promise<string> | undefined;

/** A hash of a random password: unknown users are verified against it, so they take as long as known ones. */
function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummyHash;
}

export function createAuthenticator(
  directory: Directory,
  options: Partial<AuthenticatorOptions> = {},
  now: () => number = Date.now,
): Authenticator {
  const opts = { ...DEFAULT_AUTHENTICATOR_OPTIONS, ...options };
  const accounts = new FailureTable(opts.maxFailuresPerAccount, opts.windowMs, opts.lockoutMs, opts.maxTrackedKeys);
  const ips = new FailureTable(opts.maxFailuresPerIp, opts.windowMs, opts.lockoutMs, opts.maxTrackedKeys);
  void getDummyHash(); // computed ahead, off the first login's path

  const fail = async (accountKey: string, ip: string): Promise<AuthResult> => {
    const t = now();
    accounts.record(accountKey, t);
    ips.record(ip, t);
    if (opts.failureDelayMs > 0) await sleep(opts.failureDelayMs);
    return { ok: false, reason: 'invalid' };
  };

  return {
    async authenticate({ username, password, remoteAddress }) {
      let address: string;
      try {
        address = parseAddress(username.trim()).address;
      } catch {
        address = username.trim().toLowerCase();
      }
      const t = now();
      const locked = Math.max(accounts.lockedFor(address, t), ips.lockedFor(remoteAddress, t));
      if (locked > 0) {
        if (opts.failureDelayMs > 0) await sleep(opts.failureDelayMs);
        return { ok: false, reason: 'throttled', retryAfterMs: locked };
      }
      const account = address.includes('@') ? await directory.getAccountByAddress(address) : undefined;
      const valid = await verifyPassword(password, account?.passwordHash ?? (await getDummyHash()));
      if (!account || !valid) return fail(address, remoteAddress);
      accounts.clear(address);
      return { ok: true, account };
    },
  };
}
