import { LruTable } from './lruTable.ts';

const HOUR_MS = 3_600_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per key, holding `perHour` tokens and refilled continuously over an hour; at most `maxKeys`
 * keys (least recently used dropped first), so memory stays bounded. Full buckets are not stored. Used for
 * failed logins per account (accountBudget.ts) and for messages per account on submission.
 */
export class HourlyTokens {
  private readonly buckets: LruTable<Bucket>;

  constructor(
    private readonly perHour: number,
    maxKeys: number,
  ) {
    this.buckets = new LruTable<Bucket>(maxKeys);
  }

  private bucket(key: string, now: number): Bucket {
    const b = this.buckets.get(key) ?? { tokens: this.perHour, updatedAt: now };
    const refill = ((now - b.updatedAt) * this.perHour) / HOUR_MS;
    return { tokens: Math.min(this.perHour, b.tokens + Math.max(0, refill)), updatedAt: now };
  }

  /** Whether a token is there now (none is taken). */
  has(key: string, now: number): boolean {
    return this.bucket(key, now).tokens >= 1;
  }

  /** Takes a token: 0 when taken, else the milliseconds until one is there (nothing taken then). */
  take(key: string, now: number): number {
    const b = this.bucket(key, now);
    if (b.tokens < 1) return Math.ceil(((1 - b.tokens) * HOUR_MS) / this.perHour);
    b.tokens -= 1;
    this.buckets.set(key, b);
    return 0;
  }

  /** Gives a token back. */
  refund(key: string, now: number): void {
    const b = this.bucket(key, now);
    b.tokens = Math.min(this.perHour, b.tokens + 1);
    if (b.tokens >= this.perHour) this.buckets.delete(key);
    else this.buckets.set(key, b);
  }
}
