/**
 * Messages per hour per account on submission: a token bucket holding an hour's worth, refilled
 * continuously. Checked at MAIL FROM and spent when a message is accepted (a refused transaction costs
 * nothing). In this process's memory, bounded to `maxKeys` accounts, like the login throttle: each gateway
 * task counts on its own.
 */
import { LruTable } from '../auth/lruTable.ts';

const HOUR_MS = 3_600_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class SubmissionRate {
  private readonly buckets: LruTable<Bucket>;

  constructor(
    private readonly perHour: number,
    maxKeys = 100_000,
  ) {
    this.buckets = new LruTable<Bucket>(maxKeys);
  }

  private bucket(accountId: string, now: number): Bucket {
    const b = this.buckets.get(accountId) ?? { tokens: this.perHour, updatedAt: now };
    const refill = ((now - b.updatedAt) / HOUR_MS) * this.perHour;
    return { tokens: Math.min(this.perHour, b.tokens + refill), updatedAt: now };
  }

  /** Whether the account may send one more message now. */
  allows(accountId: string, now = Date.now()): boolean {
    return this.bucket(accountId, now).tokens >= 1;
  }

  spend(accountId: string, now = Date.now()): void {
    const b = this.bucket(accountId, now);
    this.buckets.set(accountId, { tokens: b.tokens - 1, updatedAt: now });
  }
}
