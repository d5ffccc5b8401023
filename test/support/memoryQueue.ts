/**
 * An in-memory OutboundQueue: a test double of the port (lib/core/outbound.ts) for protocol and unit tests of
 * its callers (submission, the system mail sender), until and besides the DynamoDB adapter's own contract
 * tests. It keeps enqueue's promise (all entries and the idempotency record at once, duplicates write
 * nothing) and can fail the next enqueue calls, for fault tests. The runner's methods are minimal.
 */
import type { AttemptRecord, OutboundQueue, QueueEntry, QueueEntryInput } from '../../lib/core/outbound.ts';

export class MemoryQueue implements OutboundQueue {
  readonly entries = new Map<string, QueueEntry>();
  private readonly keys = new Set<string>();
  /** Calls of enqueue, duplicates and failures included. */
  enqueueCalls = 0;
  private failures = 0;

  /** The next `n` enqueue calls throw (nothing written), like a DynamoDB transaction that failed. */
  failNext(n = 1): void {
    this.failures += n;
  }

  async enqueue(entries: readonly QueueEntryInput[], idempotencyKey: string): Promise<{ duplicate: boolean }> {
    this.enqueueCalls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('injected enqueue failure');
    }
    if (this.keys.has(idempotencyKey)) return { duplicate: true };
    this.keys.add(idempotencyKey);
    const now = Date.now();
    for (const e of entries) {
      this.entries.set(e.id, {
        ...e,
        createdAt: now,
        nextAttemptAt: now,
        attempts: 0,
        recipients: e.recipients.map((r) => ({ ...r, status: 'scheduled', attempts: 0 })),
      });
    }
    return { duplicate: false };
  }

  /** Every entry, oldest first. */
  all(): QueueEntry[] {
    return [...this.entries.values()];
  }

  async due(now: number, limit: number): Promise<QueueEntry[]> {
    return this.all()
      .filter((e) => e.nextAttemptAt <= now && e.recipients.some((r) => r.status === 'scheduled'))
      .slice(0, limit);
  }

  async countPending(): Promise<number> {
    return this.all().filter((e) => e.recipients.some((r) => r.status === 'scheduled')).length;
  }

  async claim(id: string): Promise<QueueEntry | undefined> {
    return this.entries.get(id);
  }

  async complete(_id: string, _owner: string, _attempt: AttemptRecord): Promise<boolean> {
    return true;
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    return this.entries.get(id);
  }

  async *list(): AsyncIterable<QueueEntry> {
    yield* this.all();
  }

  async retryNow(id: string): Promise<boolean> {
    return this.entries.has(id);
  }

  async remove(id: string): Promise<boolean> {
    return this.entries.delete(id);
  }
}
