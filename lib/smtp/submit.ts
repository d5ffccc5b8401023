/**
 * One submitted message from the client's text to the reply:
 * 1. the text streams into S3 (receive.ts) while its header block is collected (headerBlock.ts);
 * 2. the header From must be the account's own (else 553 5.7.1, and the object is deleted);
 * 3. Date and Message-ID, when missing, are added in front of the blob (RFC 6409 §8.2, §8.3), for every
 *    local copy and queue entry alike; the Message-ID is made from the idempotency key, so a retry of the
 *    same text gets the same one;
 * 4. the local store target (local recipients) and the queue target (remote ones) commit; only when both
 *    have, 250. Either failing answers 451, and the retry completes the other without doubling it;
 * 5. local recipients that asked for NOTIFY=SUCCESS get their sender a "delivered" DSN (localSuccessDsn.ts).
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { MessageDsn } from '../core/outbound.ts';
import { deliveriesFor } from '../delivery/copies.ts';
import { localStoreTarget } from '../delivery/localTarget.ts';
import { queueTarget } from '../delivery/queueTarget.ts';
import { commitToTargets } from '../delivery/targets.ts';
import type { AcceptedMessage, DeliveryTarget, RemoteRecipient } from '../delivery/types.ts';
import { type MessageSummary, SummaryBuilder } from '../mime/summary.ts';
import { HeaderBlockCollector, type HeaderFacts, readHeaderFacts } from './headerBlock.ts';
import { headerReturned, type NotifiableLocalRecipient, reportLocalSuccess } from './localSuccessDsn.ts';
import { bodyTypeOf, type IncomingMessage, receiveText } from './receive.ts';
import { rfc5322Date } from './received.ts';
import { acceptedReply, deliveryFailureReply, REPLIES, type Reply } from './replies.ts';
import { mayUseAddress, type SubmitterAccount } from './senderIdentity.ts';
import type { SubmissionDeps } from './submission.ts';

export interface Submission extends MessageDsn {
  readonly msg: IncomingMessage;
  readonly local: readonly NotifiableLocalRecipient[];
  readonly remote: readonly RemoteRecipient[];
}

export async function submitMessage(
  deps: SubmissionDeps & { readonly account: SubmitterAccount },
  submission: Submission,
  text: Readable,
  log: Logger,
): Promise<Reply> {
  const header = new HeaderBlockCollector(deps.limits.maxHeaderBytes);
  // the IMAP summary of the object, built as it streams (as APPEND does): for local copies only, as parsing
  // the whole text costs CPU that mail for remote recipients alone does not need
  const summary = submission.local.length > 0 ? new SummaryBuilder() : undefined;
  const received = await receiveText(deps.receive, submission.msg, text, log, (chunk) => {
    header.write(chunk);
    summary?.write(chunk);
  });
  if (received.kind === 'refused') return received.reply;
  const { message } = received;
  const discard = () => void deps.receive.blobs.delete(message.blobKey).catch(() => {});

  const checked = header.overflow ? REPLIES.headerTooBig : await checkHeader(deps, header.block);
  if ('code' in checked) {
    log.info('submission refused', { code: checked.code, enhanced: checked.enhanced });
    discard();
    return checked;
  }
  const added = addedFields(checked, message, deps.hostname);
  const copySummary = summary && withAddedFields(summary.end(), added, message.internalDate);
  const outcome = await commitToTargets(message, targetsFor(deps, submission, added.text, copySummary, log));
  if (outcome.kind === 'failed') return deliveryFailureReply(outcome.reason); // the blob may back a copy: kept
  if (!outcome.blobUsed) discard();
  const report = { envId: submission.envId, returned: async () => headerReturned(header.block) };
  await reportLocalSuccess(deps.systemMail, deps.hostname, message, submission.local, report, log);
  log.info('submitted', {
    id: message.messageId,
    size: message.blobSize,
    local: submission.local.length,
    remote: submission.remote.length,
    added: added.text.length > 0,
  });
  return acceptedReply(message.messageId);
}

/** The header's facts, or the reply refusing it: one From field, every mailbox in it the account's own. */
async function checkHeader(
  deps: SubmissionDeps & { readonly account: SubmitterAccount },
  block: Buffer,
): Promise<HeaderFacts | Reply> {
  const facts = await readHeaderFacts(block);
  if (facts.fromFields !== 1 || facts.fromAddresses.length === 0) return REPLIES.fromMissing;
  for (const address of facts.fromAddresses) {
    if (!(await mayUseAddress(deps.identity, deps.account, address))) return REPLIES.fromNotOwned;
  }
  return facts;
}

interface AddedFields {
  readonly date?: string;
  readonly messageId?: string;
  /** The fields as header lines, CRLF-terminated; '' when nothing was missing. */
  readonly text: string;
}

/** Date and Message-ID when the message lacks them (RFC 6409 §8.2, §8.3). */
function addedFields(facts: HeaderFacts, message: AcceptedMessage, hostname: string): AddedFields {
  const date = facts.hasDate ? undefined : rfc5322Date(new Date(message.internalDate));
  const messageId = facts.hasMessageId ? undefined : `<${message.idempotencyKey.slice(0, 32)}@${hostname}>`;
  const text = (date ? `Date: ${date}\r\n` : '') + (messageId ? `Message-ID: ${messageId}\r\n` : '');
  return { date, messageId, text };
}

/**
 * The object's summary as the copies show it: the added fields are in the copy's header prefix (whose length
 * the store adds to the offsets), so only ENVELOPE, the search headers and the sent date need them.
 */
function withAddedFields(summary: MessageSummary, added: AddedFields, internalDate: number): MessageSummary {
  if (!added.text) return summary;
  const { date, messageId } = added;
  return {
    ...summary,
    ...(date ? { sentDate: internalDate } : {}),
    envelope: { ...summary.envelope, ...(date ? { date } : {}), ...(messageId ? { messageId } : {}) },
    headers: { ...summary.headers, ...(date ? { date } : {}), ...(messageId ? { messageId } : {}) },
  };
}

function targetsFor(
  deps: SubmissionDeps & { readonly account: SubmitterAccount },
  submission: Submission,
  headerPrefix: string,
  summary: MessageSummary | undefined,
  log: Logger,
): DeliveryTarget[] {
  const targets: DeliveryTarget[] = [];
  if (submission.local.length > 0 && summary) {
    const deliveries = deliveriesFor(submission.local, submission.msg.mailFrom, {
      mailbox: 'INBOX',
      headers: headerPrefix,
    });
    targets.push(localStoreTarget(deps.local, deliveries, log, summary));
  }
  if (submission.remote.length > 0 && deps.queue) {
    const { envId, ret } = submission;
    const options = { headerPrefix, accountId: deps.account.accountId, envId, ret, ...bodyTypeOf(submission.msg) };
    targets.push(queueTarget(deps.queue, submission.remote, options, log, deps.onEnqueued));
  }
  return targets;
}
