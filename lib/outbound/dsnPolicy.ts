/**
 * When a queue attempt earns the sender a DSN (RFC 3461 §6.2), and sending it. Pure decisions over the entry
 * as claimed and the attempt's record; `reportOutcome` adds the I/O: reading what is returned of the message
 * and handing the report to the SystemMailSender with an idempotency key, so a runner pass that is retried
 * sends each report once.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type {
  AttemptRecord,
  DsnNotify,
  QueuedRecipient,
  QueueEntry,
  RecipientOutcome,
  SystemMailSender,
} from '../core/outbound.ts';
import { buildDsn, type DsnAction, type DsnRecipientReport } from './dsn.ts';
import { RETURNED_LIMIT, readReturned } from './dsnReturned.ts';

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
 * Recipients the attempt left deferred that are now owed their one delay warning: waited at least
 * delayWarningMs since arrival, never warned, NOTIFY allows DELAY. The runner puts these in
 * AttemptRecord.warned so the queue records warnedAt and later attempts do not warn again.
 */
export function delayWarningsDue(entry: QueueEntry, attempt: AttemptRecord, options: DsnPolicyOptions): string[] {
  if (entry.mailFrom === '') return [];
  if (attempt.at - entry.createdAt < options.delayWarningMs) return [];
  return pendingOutcomes(entry, attempt)
    .filter(({ recipient, outcome }) => outcome.result === 'deferred' && recipient.warnedAt === undefined)
    .filter(({ recipient }) => notifies(recipient, 'DELAY'))
    .map(({ recipient }) => recipient.address);
}

function actionFor(
  recipient: QueuedRecipient,
  outcome: RecipientOutcome,
  warn: ReadonlySet<string>,
): DsnAction | undefined {
  if (outcome.result === 'failed') return notifies(recipient, 'FAILURE') ? 'failed' : undefined;
  if (outcome.result === 'deferred') return warn.has(recipient.address) ? 'delayed' : undefined;
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
  const warn = new Set(attempt.warned ?? delayWarningsDue(entry, attempt, options));
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

export interface ReportDeps {
  /** Our host name (Reporting-MTA, MAILER-DAEMON@). */
  readonly hostname: string;
  readonly sender: SystemMailSender;
  /** The queued message from its first byte (header prefix and blob), for what the report returns. */
  readonly openMessage: (entry: QueueEntry) => Promise<Readable>;
  readonly policy: DsnPolicyOptions;
  /** Unique part of the report's Message-ID. */
  readonly newId: () => string;
  readonly now?: () => number;
  readonly returnedLimit?: number;
  readonly log?: Logger;
}

function toRecipientReport(
  entry: QueueEntry,
  attempt: AttemptRecord,
  r: PlannedReport,
  lifetimeMs: number,
): DsnRecipientReport {
  return {
    address: r.recipient.address,
    action: r.action,
    orcpt: r.recipient.orcpt,
    reply: r.outcome.reply,
    remoteMta: r.outcome.remoteMta,
    lastAttemptAt: attempt.at,
    willRetryUntil: r.action === 'delayed' ? entry.createdAt + lifetimeMs : undefined,
  };
}

/**
 * Sends the DSN an attempt calls for (none, most of the time). Call it after OutboundQueue.complete
 * succeeded. The full message goes back only in a failure report with RET=FULL (RFC 3461 §4.3), cut at
 * returnedLimit; otherwise the headers. A message that cannot be read is not returned, but the report is
 * still sent.
 */
export async function reportOutcome(
  entry: QueueEntry,
  attempt: AttemptRecord,
  deps: ReportDeps,
): Promise<{ readonly reports: readonly PlannedReport[]; readonly idempotencyKey?: string }> {
  const reports = planReports(entry, attempt, deps.policy);
  if (reports.length === 0) return { reports };
  const full = entry.ret === 'FULL' && reports.some((r) => r.action === 'failed');
  const returned = await readReturned(
    () => deps.openMessage(entry),
    full ? 'message' : 'headers',
    deps.returnedLimit ?? RETURNED_LIMIT,
  ).catch((err: unknown) => {
    deps.log?.warn('dsn: original message unreadable, report sent without it', { entry: entry.id, err });
    return undefined;
  });
  const text = buildDsn({
    hostname: deps.hostname,
    to: entry.mailFrom,
    envId: entry.envId,
    arrivalDate: entry.createdAt,
    recipients: reports.map((r) => toRecipientReport(entry, attempt, r, deps.policy.lifetimeMs)),
    returned,
    id: deps.newId(),
    date: (deps.now ?? Date.now)(),
  });
  const idempotencyKey = reportKey(entry.id, reports);
  await deps.sender.send({ recipient: entry.mailFrom, text, idempotencyKey });
  deps.log?.info('dsn sent', { entry: entry.id, key: idempotencyKey, actions: reports.map((r) => r.action) });
  return { reports, idempotencyKey };
}
