/**
 * What one attempt tells the sender (RFC 3461 §4.1 NOTIFY, RFC 3464 actions): recipients that failed (5xx,
 * or deferred past the queue lifetime), that are still deferred once the message is older than the delay
 * warning, and that were delivered when the sender asked for SUCCESS. The DSN builder (lib/outbound/dsn*)
 * turns a report into a message; the runner only decides that there is something to say.
 */
import type { DsnNotify, QueuedRecipient, QueueEntry, RecipientOutcome } from '../core/outbound.ts';
import { crossesDelayWarning } from './dsnPolicy.ts';

export interface OutcomeReport {
  /** The entry as this attempt left it. */
  readonly entry: QueueEntry;
  readonly at: number;
  /** Failed in this attempt, NOTIFY allowing FAILURE (the default). */
  readonly failed: readonly QueuedRecipient[];
  /** Of `failed`, those that gave up on a 4xx because the queue lifetime ran out (RFC 3463 4.4.7). */
  readonly expired: readonly string[];
  /** Still deferred; this attempt is the first past the delay warning; NOTIFY allowing DELAY (the default). */
  readonly delayed: readonly QueuedRecipient[];
  /** Delivered in this attempt with NOTIFY=SUCCESS (RFC 3461 §5.2.2: relayed, a "delivered" or "relayed" DSN). */
  readonly delivered: readonly QueuedRecipient[];
  /** The same for every retry of this report: entry id and attempt number (SystemMailSender's key). */
  readonly idempotencyKey: string;
}

/** Sends the DSNs a report calls for; the runner calls it after the attempt is recorded. */
export type ReportOutcome = (report: OutcomeReport) => Promise<void>;

/** NOTIFY as given; undefined means FAILURE and DELAY (RFC 3461 §4.1); NEVER is the empty list. */
function notifies(r: QueuedRecipient, what: DsnNotify): boolean {
  if (r.notify === undefined) return what !== 'SUCCESS';
  return r.notify.includes(what);
}

/**
 * The report for one attempt at `before` that left `after`, or undefined when nobody is to be told. The null
 * sender is never told anything (RFC 5321 §4.5.5: no report on a report, so no loops).
 */
export function outcomeReport(
  before: QueueEntry,
  after: QueueEntry,
  at: number,
  delayWarningMs: number,
  expired: ReadonlySet<string>,
): OutcomeReport | undefined {
  if (before.mailFrom === '') return undefined;
  const was = new Map(before.recipients.map((r) => [r.address, r]));
  const changed = (r: QueuedRecipient) => was.get(r.address)?.status !== r.status;
  const crossedWarning = crossesDelayWarning(before, at, { delayWarningMs });
  const failed = after.recipients.filter((r) => r.status === 'failed' && changed(r) && notifies(r, 'FAILURE'));
  const delivered = after.recipients.filter((r) => r.status === 'delivered' && changed(r) && notifies(r, 'SUCCESS'));
  const delayed = crossedWarning ? after.recipients.filter((r) => r.status === 'deferred' && notifies(r, 'DELAY')) : [];
  if (failed.length + delivered.length + delayed.length === 0) return undefined;
  return {
    entry: after,
    at,
    failed,
    expired: failed.filter((r) => expired.has(r.address)).map((r) => r.address),
    delayed,
    delivered,
    idempotencyKey: `dsn:${after.id}:${after.attempts}`,
  };
}

/**
 * Whether an attempt with these outcomes can call for a report at all, from what the runner knows before it
 * reads the entry back: a failure, a delivery with NOTIFY=SUCCESS, or a deferral once past the delay warning
 * (outcomeReport's conditions, loosened). When false the runner skips that read, one per delivered message.
 */
export function mayReport(
  before: QueueEntry,
  outcomes: readonly RecipientOutcome[],
  at: number,
  delayWarningMs: number,
): boolean {
  if (before.mailFrom === '') return false;
  const recipient = new Map(before.recipients.map((r) => [r.address, r]));
  const wantsSuccess = (address: string) => {
    const r = recipient.get(address);
    return r === undefined || notifies(r, 'SUCCESS');
  };
  return outcomes.some(
    (o) =>
      o.result === 'failed' ||
      (o.result === 'delivered' && wantsSuccess(o.address)) ||
      (o.result === 'deferred' && crossesDelayWarning(before, at, { delayWarningMs })),
  );
}
