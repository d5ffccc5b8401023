/**
 * How full one listener is, and what follows from it for the protocols on it:
 *
 * - At its cap, a new connection is refused with the protocol's "too many connections" line.
 * - Under stress (from 75% of the cap on, until it falls back below 65%), every protocol on the listener uses a
 *   short idle timeout, like Postfix's stress-dependent `smtpd_timeout = ${stress?10}{300}s`: a flood of idle
 *   connections drains within seconds and legitimate clients get in again. When stress begins, every
 *   connection's idle timer is re-armed with the short value; when it ends, timers already running keep it
 *   (as in Postfix, a read's deadline is set when the read starts) and the next one is normal again. The gap
 *   between the two marks keeps the listener from flapping.
 */

/** What a protocol sees of its listener's load. */
export interface ListenerLoad {
  readonly stressed: boolean;
  /** The idle timeout to arm now: `normalMs`, or the stress timeout when shorter and under stress. */
  idleTimeout(normalMs: number): number;
  /** Calls `onStress` whenever stress begins (to re-arm idle timers); returns the unsubscribe. */
  watch(onStress: () => void): () => void;
}

const STRESS_FROM = 0.75;
const STRESS_UNTIL_BELOW = 0.65;

export class ConnectionGauge implements ListenerLoad {
  private open = 0;
  private isStressed = false;
  private readonly watchers = new Set<() => void>();
  private readonly stressAt: number;
  private readonly relaxBelow: number;

  constructor(
    readonly cap: number,
    private readonly stressIdleTimeoutMs: number,
    private readonly onStressChange?: (stressed: boolean, open: number) => void,
  ) {
    this.stressAt = Math.max(1, Math.ceil(cap * STRESS_FROM));
    this.relaxBelow = Math.max(1, Math.min(this.stressAt - 1, Math.ceil(cap * STRESS_UNTIL_BELOW)));
  }

  get connections(): number {
    return this.open;
  }

  get full(): boolean {
    return this.open >= this.cap;
  }

  get stressed(): boolean {
    return this.isStressed;
  }

  idleTimeout(normalMs: number): number {
    return this.isStressed ? Math.min(normalMs, this.stressIdleTimeoutMs) : normalMs;
  }

  watch(onStress: () => void): () => void {
    this.watchers.add(onStress);
    return () => this.watchers.delete(onStress);
  }

  opened(): void {
    this.open++;
    if (!this.isStressed && this.open >= this.stressAt) this.change(true);
  }

  closed(): void {
    this.open--;
    if (this.isStressed && this.open < this.relaxBelow) this.change(false);
  }

  private change(stressed: boolean): void {
    this.isStressed = stressed;
    this.onStressChange?.(stressed, this.open);
    if (stressed) for (const onStress of [...this.watchers]) onStress();
  }
}
