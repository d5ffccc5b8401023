/**
 * The outbound queue target: one queue entry per destination domain (all its recipients share one attempt),
 * written in one call under the message's idempotency key, so a retried transaction enqueues nothing twice.
 */
import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { OutboundQueue, QueueEntryInput } from '../core/outbound.ts';
import type { AcceptedMessage, DeliveryTarget, OutboundOptions, RemoteRecipient } from './types.ts';

export function queueTarget(
  queue: OutboundQueue,
  recipients: readonly RemoteRecipient[],
  options: OutboundOptions,
  log: Logger,
  onEnqueued?: () => void,
): DeliveryTarget {
  return {
    name: 'queue',
    async commit(message: AcceptedMessage) {
      const entries = queueEntries(message, recipients, options);
      try {
        const { duplicate } = await queue.enqueue(entries, message.idempotencyKey);
        log.info('queued', { id: message.messageId, entries: entries.map((e) => e.id), duplicate });
        if (!duplicate) onEnqueued?.();
        return { kind: 'committed', blobUsed: !duplicate };
      } catch (err) {
        log.warn('enqueue failed', { id: message.messageId, err });
        return { kind: 'failed', reason: 'temporary' };
      }
    },
  };
}

export function queueEntries(
  message: AcceptedMessage,
  recipients: readonly RemoteRecipient[],
  options: OutboundOptions,
): QueueEntryInput[] {
  const byDomain = new Map<string, RemoteRecipient[]>();
  for (const r of recipients) {
    const list = byDomain.get(r.domain) ?? [];
    if (!list.some((x) => x.address === r.address)) list.push(r);
    byDomain.set(r.domain, list);
  }
  const size = Buffer.byteLength(options.headerPrefix) + message.blobSize;
  return [...byDomain].map(([domain, list]) => ({
    id: ulid(),
    domain,
    mailFrom: message.mailFrom,
    blobKey: message.blobKey,
    headerPrefix: options.headerPrefix,
    size,
    recipients: list.map(({ address, notify, orcpt }) => ({
      address,
      ...(notify ? { notify } : {}),
      ...(orcpt ? { orcpt } : {}),
    })),
    ...(options.envId ? { envId: options.envId } : {}),
    ...(options.ret ? { ret: options.ret } : {}),
    ...(options.accountId ? { accountId: options.accountId } : {}),
    ...(options.eightBit ? { eightBit: true } : {}),
    ...(options.smtpUtf8 ? { smtpUtf8: true } : {}),
  }));
}
