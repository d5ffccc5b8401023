/**
 * When a queue attempt earns the sender a DSN (RFC 3461 §6.2): pure decisions over the entry as claimed and
 * the attempt's record. Sending is lib/outbound/dsnReport.ts.
 */
import { createHash } from 'node:crypto';
import type { AttemptRecord, DsnNotify, QueuedRecipient, QueueEntry, RecipientOutcome } from '../core/outbound.ts';
import type { DsnAction } from './dsn.ts';

/** Postfix's delay_warning_time and the default: warn once a recipient waited 4 hours. */
export const DEFAULT_DELAY_WARNING_MS = 4 * 60 * 60_000;

export interface DsnPolicyOptions {
  /** A recipient still deferred this long after arrival gets one 'delayed' report. */
  readonly delayWarningMs: number;
  /** How long the queue keeps trying (Will-Retry-Until = arrival + lifetime). */
  readonly lifetimeMs: number;
}

export interface PlannedReport {
  readonly recipient: QueuedRecipient;
  readonly outcome: RecipientOutcome;
  readonly action: DsnAction;
}

/** RFC 3461 §4.1: no NOTIFY means FAILURE and DELAY; NOTIFY=NEVER is the empty list. */
function notifies(recipient: QueuedRecipient, what: DsnNotify): boolean {
  return recipient.notify === undefined ? what !== 'SUCCESS' : recipient.notify.includes(what);
}

const isPending = (r: QueuedRecipient) => r.status === 'scheduled' || r.status === 'deferred';

/** The outcomes of the attempt for recipients that were pending in the entry, with their queue state. */
function pendingOutcomes(
  entry: QueueEntry,
  attempt: AttemptRecord,
): { recipient: QueuedRecipient; outcome: RecipientOutcome }[] {
  const byAddress = new Map(entry.recipients.map((r) => [r.address, r]));
  return attempt.outcomes.flatMap((outcome) => {
    const recipient = byAddress.get(outcome.address);
    return recipient && isPending(recipient) ? [{ recipient, outcome }] : [];
  });
}

/**
 * Whether this attempt is the one that crosses the delay-warning age: the previous attempt (or arrival) was
 * younger than delayWarningMs, this one is not. Each recipient is warned once without any state kept for it,
 * and a repeated runner pass (the attempt not recorded) crosses again, with the same report key.
 */
export function crossesDelayWarning(
  entry: QueueEntry,
  at: number,
  options: Pick<DsnPolicyOptions, 'delayWarningMs'>,
): boolean {
  const previous = Math.max(entry.createdAt, ...entry.recipients.map((r) => r.lastAttemptAt ?? 0));
  return previous - entry.createdAt < options.delayWarningMs && at - entry.createdAt >= options.delayWarningMs;
}

function actionFor(recipient: QueuedRecipient, outcome: RecipientOutcome, warn: boolean): DsnAction | undefined {
  if (outcome.result === 'failed') return notifies(recipient, 'FAILURE') ? 'failed' : undefined;
  if (outcome.result === 'deferred') return warn && notifies(recipient, 'DELAY') ? 'delayed' : undefined;
  // RFC 3461 §5.2.2 / §6.2: a next hop that took the DSN parameters reports success itself; otherwise the
  // last DSN-capable MTA (we) reports 'relayed'.
  if (!notifies(recipient, 'SUCCESS') || outcome.handedTo === 'dsn-relay') return undefined;
  return outcome.handedTo === 'mailbox' ? 'delivered' : 'relayed';
}

/**
 * The reports one attempt calls for, one per recipient, all for one DSN. None at all for the null sender:
 * a DSN is never sent about a DSN (RFC 3461 §6.2, RFC 5321 §4.5.5).
 */
export function planReports(entry: QueueEntry, attempt: AttemptRecord, options: DsnPolicyOptions): PlannedReport[] {
  if (entry.mailFrom === '') return [];
  const warn = crossesDelayWarning(entry, attempt.at, options);
  return pendingOutcomes(entry, attempt).flatMap(({ recipient, outcome }) => {
    const action = actionFor(recipient, outcome, warn);
    return action ? [{ recipient, outcome, action }] : [];
  });
}

/** Same entry, same recipients, same actions: the same key, so the sender enqueues the report once. */
export function reportKey(entryId: string, reports: readonly PlannedReport[]): string {
  const lines = reports.map((r) => `${r.action}:${r.recipient.address}`).sort();
  return `dsn:${createHash('sha256')
    .update([entryId, ...lines].join('\n'))
    .digest('hex')}`;
}
