/**
 * One MX message from the client's text to the reply (DESIGN.md rules 1 and 2):
 * 1. the text streams into S3 (receive.ts);
 * 2. the filter function reads the object by key and returns the verdict, header fields and IMAP summary;
 * 3. the local store target (lib/delivery) appends one copy per recipient account, each with its own header
 *    prefix, retried with the same idempotency key; the forward target (forward.ts) enqueues the remote copies
 *    of aliases and SRS bounces in the same commit, under the same key;
 * 4. only then 250. Any failure of S3, the index, the queue or a function answers 451; recipients stored that
 *    asked for NOTIFY=SUCCESS get their sender a "delivered" DSN (localSuccessDsn.ts).
 *
 * Exactly once: the store's idempotency key is the SHA-256 of the envelope sender and the message text as
 * the client sent it. The store step is retried with the same key; and when the transaction still fails, the
 * client's own retry of the same message carries the same key, so recipients that already have their copy
 * are skipped and the others get theirs: one copy per recipient whatever failed where. (Two deliveries of
 * byte-identical text from the same sender within the idempotency window, 14 days, are the same message;
 * the Message-ID and trace fields of real mail make that so.)
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { RejectReason } from '../core/metrics.ts';
import type { MessageDsn, RecipientDsn, SystemMailSender } from '../core/outbound.ts';
import type { Invoker } from '../core/ports.ts';
import { deliveriesFor } from '../delivery/copies.ts';
import { type LocalStoreDeps, localStoreTarget } from '../delivery/localTarget.ts';
import { commitToTargets } from '../delivery/targets.ts';
import type { DeliveryTarget } from '../delivery/types.ts';
import { readReturned } from '../outbound/dsnReturned.ts';
import type { FilterRequest, FilterResult } from '../pipeline/contracts.ts';
import { type ForwardDeps, forwardedCopies, forwardTarget } from './forward.ts';
import { reportLocalSuccess } from './localSuccessDsn.ts';
import { type IncomingMessage, type ReceiveDeps, receiveText } from './receive.ts';
import type { Recipient } from './recipients.ts';
import { filterRejectReason } from './rejectReason.ts';
import { acceptedReply, deliveryFailureReply, REPLIES, type Reply } from './replies.ts';

export type { IncomingMessage } from './receive.ts';

export interface IngestDeps extends ReceiveDeps {
  readonly invoker: Invoker;
  readonly local: LocalStoreDeps;
  /** The queue and SRS codec for forwarded copies; absent, the recipient policy accepts none. */
  readonly forward?: ForwardDeps;
  /** Sends the "delivered" DSNs of NOTIFY=SUCCESS recipients; absent: none is sent. */
  readonly systemMail?: SystemMailSender;
}

export interface IngestOutcome {
  readonly reply: Reply;
  /** When the last byte of text arrived (the reply's latency is measured from here). */
  readonly dataEnd: number;
  /** Set when the filter refused the message: the reply alone does not tell spam from virus or DMARC. */
  readonly reason?: RejectReason;
}

/** Receives, filters and stores one message; resolves with the reply for the client. */
export async function ingest(
  deps: IngestDeps,
  msg: Omit<IncomingMessage, 'recipients'> &
    MessageDsn & { readonly recipients: readonly (Recipient & RecipientDsn)[] },
  text: Readable,
  log: Logger,
): Promise<IngestOutcome> {
  const received = await receiveText(deps, msg, text, log);
  const { dataEnd } = received;
  if (received.kind === 'refused') return { reply: received.reply, dataEnd };
  const { message } = received;
  const discard = () => void deps.blobs.delete(message.blobKey).catch(() => {});
  const timing = { putMs: Date.now() - dataEnd, filterMs: 0, storeMs: 0 };
  let phase = Date.now();

  let verdict: FilterResult;
  try {
    verdict = await deps.invoker.invoke<FilterRequest, FilterResult>('filter', {
      messageId: message.messageId,
      blobKey: message.blobKey,
      blobSize: message.blobSize,
      mailFrom: msg.mailFrom,
      helo: msg.helo,
      clientIp: msg.clientIp,
      recipients: msg.recipients.map((r) => r.address),
      authservId: deps.hostname,
    });
  } catch (err) {
    log.warn('filter failed', { err });
    discard();
    return { reply: REPLIES.temporaryFailure, dataEnd };
  }
  timing.filterMs = Date.now() - phase;
  phase = Date.now();
  if (verdict.action === 'reject') {
    discard();
    return { reply: verdict.reply ?? REPLIES.spam, dataEnd, reason: filterRejectReason(verdict) };
  }

  const deliveries = deliveriesFor(msg.recipients, msg.mailFrom, verdict);
  const forwards = forwardedCopies(msg.recipients, msg.mailFrom, verdict, deps.forward, log);
  if (deliveries.length === 0 && forwards.length === 0) {
    discard(); // only forwarding recipients, and the filter called it spam: refused, never dropped after a 250
    return { reply: REPLIES.spamNotForwarded, dataEnd };
  }
  const targets: DeliveryTarget[] = [];
  if (deliveries.length > 0) targets.push(localStoreTarget(deps.local, deliveries, log, verdict.summary));
  if (forwards.length > 0 && deps.forward) targets.push(forwardTarget(deps.forward, forwards, verdict, msg, log));
  const outcome = await commitToTargets(message, targets);
  timing.storeMs = Date.now() - phase;
  // the blob may already back some copies: it is kept whatever happens from here
  if (outcome.kind === 'failed') return { reply: deliveryFailureReply(outcome.reason), dataEnd };
  if (!outcome.blobUsed) discard(); // every copy already existed, served from an earlier transaction's object
  // No report for mail filed as junk: a forged sender would otherwise get our delivery reports (backscatter).
  const stored = verdict.mailbox === 'Junk' ? [] : msg.recipients.filter((r) => r.accounts.length > 0);
  const returned = () => readReturned(() => deps.blobs.get(message.blobKey), 'headers');
  await reportLocalSuccess(deps.systemMail, deps.hostname, message, stored, { envId: msg.envId, returned }, log);
  log.info('delivered', {
    id: message.messageId,
    size: message.blobSize,
    mailbox: verdict.mailbox,
    spam: verdict.spam.score,
    forwarded: forwards.length,
    ...timing,
  });
  return { reply: acceptedReply(message.messageId), dataEnd };
}
