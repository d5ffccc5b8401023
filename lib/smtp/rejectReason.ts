/**
 * Which MessagesRejected reason a refusal counts under. Our replies are values (replies.ts), so most map by
 * identity; the filter's refusals come back through the invoker as copies, so ingest.ts takes their reason
 * from the verdict instead. Anything else counts by its class: 4xx temp-failure, 5xx policy.
 */
import type { RejectReason } from '../core/metrics.ts';
import type { FilterResult } from '../pipeline/contracts.ts';
import { REPLIES, type Reply } from './replies.ts';

const REASON_OF = new Map<Reply, RejectReason>([
  [REPLIES.relayDenied, 'relay-denied'],
  [REPLIES.unknownUser, 'unknown-user'],
  [REPLIES.badSrsAddress, 'unknown-user'],
  [REPLIES.mailboxFull, 'quota'],
  [REPLIES.tooManyRecipients, 'policy'],
  [REPLIES.messageTooBig, 'size'],
  [REPLIES.headerTooBig, 'size'],
  [REPLIES.spam, 'spam'],
  [REPLIES.spamNotForwarded, 'spam'],
  [REPLIES.virus, 'virus'],
  [REPLIES.dmarcReject, 'dmarc'],
  [REPLIES.messageRateExceeded, 'rate-limit'],
]);

export function rejectReason(reply: Reply): RejectReason {
  return REASON_OF.get(reply) ?? (reply.code < 500 ? 'temp-failure' : 'policy');
}

/** The reason of a message the filter refused. */
export function filterRejectReason(verdict: Pick<FilterResult, 'rejected'>): RejectReason {
  return verdict.rejected ?? 'spam';
}
