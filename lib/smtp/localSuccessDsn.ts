/**
 * The "delivered" DSN for local recipients that asked for NOTIFY=SUCCESS (RFC 3461 §4.1, §5.2.2: a server that
 * advertises DSN and delivers to a mailbox reports the delivery), on the MX and on submission alike. Remote
 * recipients get theirs from the queue runner. Sent after the message is committed, through the same ingestion path as any
 * DSN, under a key derived from the message's, so a client's retry of the same text reports once. A failure
 * to send it is logged and does not undo the delivery.
 */
import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { MessageDsn, RecipientDsn, SystemMailSender } from '../core/outbound.ts';
import type { AcceptedMessage, LocalRecipient } from '../delivery/types.ts';
import { buildDsn, type ReturnedContent } from '../outbound/dsn.ts';
import { RETURNED_LIMIT } from '../outbound/dsnReturned.ts';

export type NotifiableLocalRecipient = LocalRecipient & RecipientDsn;

export async function reportLocalSuccess(
  sender: SystemMailSender | undefined,
  hostname: string,
  message: AcceptedMessage,
  recipients: readonly NotifiableLocalRecipient[],
  original: MessageDsn & { readonly returned: () => Promise<ReturnedContent> },
  log: Logger,
): Promise<void> {
  const asked = recipients.filter((r) => r.notify?.includes('SUCCESS'));
  if (!sender || asked.length === 0 || message.mailFrom === '') return;
  const now = Date.now();
  let returned: ReturnedContent | undefined;
  try {
    returned = await original.returned();
  } catch (err) {
    log.warn('delivery report without the header section', { err, id: message.messageId });
  }
  const text = buildDsn({
    hostname,
    to: message.mailFrom,
    envId: original.envId,
    arrivalDate: message.internalDate,
    recipients: asked.map((r) => ({
      address: r.address,
      action: 'delivered' as const,
      orcpt: r.orcpt,
      reply: '250 2.0.0 Delivered to the mailbox',
      lastAttemptAt: now,
    })),
    returned,
    id: ulid(),
    date: now,
  });
  try {
    await sender.send({ recipient: message.mailFrom, text, idempotencyKey: `dsn:delivered:${message.idempotencyKey}` });
  } catch (err) {
    log.warn('delivery report not sent', { err, id: message.messageId });
  }
}

/** A header section already in hand (submission collects it as the text streams), as what a report returns. */
export function headerReturned(block: Buffer): ReturnedContent {
  return {
    kind: 'headers',
    bytes: block.subarray(0, RETURNED_LIMIT),
    truncated: block.length > RETURNED_LIMIT,
    limit: RETURNED_LIMIT,
  };
}
