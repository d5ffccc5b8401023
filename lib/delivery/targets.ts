/**
 * Commits an accepted message to every target at once and tells the caller whether it may answer 250: only
 * when all of them committed. A target that failed leaves the others committed; the retry of the same
 * message (same idempotency key) finds their work done and completes the rest.
 */
import type { AcceptedMessage, DeliveryOutcome, DeliveryTarget } from './types.ts';

export async function commitToTargets(
  message: AcceptedMessage,
  targets: readonly DeliveryTarget[],
): Promise<DeliveryOutcome> {
  const outcomes = await Promise.all(targets.map((t) => t.commit(message)));
  const failed = outcomes.filter((o) => o.kind === 'failed');
  if (failed.length > 0) {
    return { kind: 'failed', reason: failed.some((f) => f.reason === 'quota') ? 'quota' : 'temporary' };
  }
  return { kind: 'accepted', blobUsed: outcomes.some((o) => o.kind === 'committed' && o.blobUsed) };
}
