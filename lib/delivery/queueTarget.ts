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

/** Recipients in one queue entry at most: the entry item stays far below DynamoDB's 400 KB (queueItems.ts). */
export const MAX_ENTRY_RECIPIENTS = 100;

/**
 * One entry per envelope sender and destination domain (a forwarded copy has its own, SRS, sender), at most
 * MAX_ENTRY_RECIPIENTS recipients each; an address listed twice gets one copy, under its first sender.
 */
export function queueEntries(
  message: AcceptedMessage,
  recipients: readonly RemoteRecipient[],
  options: OutboundOptions,
): QueueEntryInput[] {
  const groups = new Map<string, { mailFrom: string; domain: string; list: RemoteRecipient[] }>();
  const seen = new Set<string>();
  for (const r of recipients) {
    if (seen.has(r.address)) continue;
    seen.add(r.address);
    const mailFrom = r.mailFrom ?? message.mailFrom;
    const key = `${mailFrom}\0${r.domain}`;
    const group = groups.get(key) ?? { mailFrom, domain: r.domain, list: [] };
    group.list.push(r);
    groups.set(key, group);
  }
  const size = Buffer.byteLength(options.headerPrefix) + message.blobSize;
  const entries: QueueEntryInput[] = [];
  for (const { mailFrom, domain, list } of groups.values()) {
    for (let i = 0; i < list.length; i += MAX_ENTRY_RECIPIENTS) {
      entries.push({
        id: ulid(),
        domain,
        mailFrom,
        blobKey: message.blobKey,
        headerPrefix: options.headerPrefix,
        size,
        recipients: list.slice(i, i + MAX_ENTRY_RECIPIENTS).map(({ address, notify, orcpt }) => ({
          address,
          ...(notify ? { notify } : {}),
          ...(orcpt ? { orcpt } : {}),
        })),
        ...(options.envId ? { envId: options.envId } : {}),
        ...(options.ret ? { ret: options.ret } : {}),
        ...(options.accountId ? { accountId: options.accountId } : {}),
        ...(options.arcSeal ? { arcSeal: options.arcSeal } : {}),
        ...(options.eightBit ? { eightBit: true } : {}),
        ...(options.smtpUtf8 ? { smtpUtf8: true } : {}),
        // a rewritten (SRS) sender: our own reports about this copy go to the sender it stands for
        ...(mailFrom && message.mailFrom && mailFrom !== message.mailFrom ? { reportTo: message.mailFrom } : {}),
      });
    }
  }
  return entries;
}
