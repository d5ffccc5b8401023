import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log.ts';
import { type Metrics, noMetrics } from '../core/metrics.ts';
import type { StoreRequest, StoreResult } from '../pipeline/contracts.ts';
import type { StoreBatcher } from './storeBatcher.ts';

export interface StoreRetryOptions {
  readonly attempts: number;
  /** Pause before the second attempt, doubled for each one after. */
  readonly retryDelayMs: number;
}

/**
 * The store step with retries. It is idempotent (keyed by the request's idempotency key), so a retry after a
 * lost answer cannot make a second copy. Undefined when every attempt failed.
 */
export async function storeWithRetries(
  batcher: StoreBatcher,
  request: StoreRequest,
  opts: StoreRetryOptions,
  log: Logger,
  metrics: Metrics = noMetrics,
): Promise<StoreResult | undefined> {
  for (let attempt = 0; attempt < Math.max(1, opts.attempts); attempt++) {
    if (attempt > 0) await sleep(opts.retryDelayMs * 2 ** (attempt - 1));
    try {
      const stored = await batcher.store(request);
      // a storage failure inside a batch is this request's alone: retry it like a failed invocation
      if (stored.failed.some((f) => f.reason === 'temporary')) throw new Error('store failed for a recipient');
      return stored;
    } catch (err) {
      log.warn('store failed', { attempt: attempt + 1, err });
      metrics.count('StoreErrors', {});
    }
  }
  return undefined;
}
