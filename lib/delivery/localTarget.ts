/**
 * The local store target: one copy per recipient account through the store function (group-committed by the
 * StoreBatcher, retried with the same idempotency key by storeWithRetries).
 */
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { MessageSummary } from '../mime/summary.ts';
import type { StoreRequest } from '../pipeline/contracts.ts';
import type { Delivery } from './copies.ts';
import type { StoreBatcher } from './storeBatcher.ts';
import { type StoreRetryOptions, storeWithRetries } from './storeRetry.ts';
import type { AcceptedMessage, DeliveryTarget } from './types.ts';

export interface LocalStoreDeps {
  readonly batcher: StoreBatcher;
  readonly retry: StoreRetryOptions;
  /** Counts StoreErrors (each failed attempt). */
  readonly metrics?: Metrics;
}

export function localStoreTarget(
  deps: LocalStoreDeps,
  deliveries: readonly Delivery[],
  log: Logger,
  summary?: MessageSummary,
): DeliveryTarget {
  return {
    name: 'local',
    async commit(message: AcceptedMessage) {
      const request: StoreRequest = {
        messageId: message.messageId,
        idempotencyKey: message.idempotencyKey,
        blobKey: message.blobKey,
        blobSize: message.blobSize,
        internalDate: message.internalDate,
        summary,
        deliveries,
      };
      const stored = await storeWithRetries(deps.batcher, request, deps.retry, log, deps.metrics);
      if (!stored) return { kind: 'failed', reason: 'temporary' };
      if (stored.failed.some((f) => f.reason === 'quota')) return { kind: 'failed', reason: 'quota' };
      if (stored.failed.length > 0) return { kind: 'failed', reason: 'temporary' };
      log.info('stored', {
        id: message.messageId,
        copies: stored.delivered.length,
        duplicates: stored.delivered.filter((d) => d.duplicate).length,
      });
      return { kind: 'committed', blobUsed: stored.delivered.some((d) => d.blobKey === message.blobKey) };
    },
  };
}
