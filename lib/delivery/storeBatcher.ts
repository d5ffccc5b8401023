import type { Invoker } from '../core/ports.ts';
import type { StoreBatchRequest, StoreBatchResult, StoreRequest, StoreResult } from '../pipeline/contracts.ts';

/** Requests per store invocation; the payload stays far under Lambda's 6 MB (summaries are bounded). */
const MAX_BATCH = 32;

interface Waiting {
  readonly request: StoreRequest;
  resolve(result: StoreResult): void;
  reject(err: unknown): void;
}

/**
 * Sends store requests for the same recipient accounts one invocation at a time, and everything that queued
 * up meanwhile together in the next one. Alone, a message goes out at once (no added latency); under load,
 * messages for one mailbox become one group commit instead of racing each other for its UIDNEXT. Correctness
 * never depends on this (DynamoDB's conditions do that, also across gateway tasks); it only keeps one task
 * from racing itself.
 */
export class StoreBatcher {
  private readonly queues = new Map<string, Waiting[]>();

  constructor(private readonly invoker: Invoker) {}

  store(request: StoreRequest): Promise<StoreResult> {
    const key = [...new Set(request.deliveries.map((d) => d.accountId))].sort().join(' ');
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ request, resolve, reject });
        return;
      }
      this.queues.set(key, [{ request, resolve, reject }]);
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const { results } = await this.invoker.invoke<StoreBatchRequest, StoreBatchResult>('store', {
          requests: batch.map((w) => w.request),
        });
        for (const [i, w] of batch.entries()) w.resolve(results[i]);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.queues.delete(key);
  }
}
