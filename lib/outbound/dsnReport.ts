/**
 * Sends the DSN an attempt calls for: reads what is returned of the message (bounded), builds the report and
 * hands it to the SystemMailSender with an idempotency key, so a repeated runner pass sends it once. Two entry
 * points: `reportOutcome` decides with dsnPolicy.ts from the entry and the attempt record; `sendRunnerReport`
 * takes the decision the queue runner already made (its OutcomeReport).
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { AttemptRecord, QueuedRecipient, QueueEntry, SystemMailSender } from '../core/outbound.ts';
import { buildDsn, type DsnAction } from './dsn.ts';
import { type DsnPolicyOptions, type PlannedReport, planReports, reportKey } from './dsnPolicy.ts';
import { RETURNED_LIMIT, readReturned } from './dsnReturned.ts';
import type { OutcomeReport } from './runnerReport.ts';

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

/**
 * Builds and sends one DSN for `reports` (recipients of one entry). The full message goes back only in a
 * failure report with RET=FULL (RFC 3461 §4.3), cut at returnedLimit; otherwise the headers. A message that
 * cannot be read is not returned, but the report is still sent.
 */
async function sendReport(
  entry: QueueEntry,
  at: number,
  reports: readonly PlannedReport[],
  idempotencyKey: string,
  deps: ReportDeps,
): Promise<void> {
  const to = entry.reportTo ?? entry.mailFrom; // a forwarded copy's report goes to the original sender
  const full = entry.ret === 'FULL' && reports.some((r) => r.action === 'failed');
  const limit = deps.returnedLimit ?? RETURNED_LIMIT;
  const returned = await readReturned(() => deps.openMessage(entry), full ? 'message' : 'headers', limit).catch(
    (err: unknown) => {
      deps.log?.warn('dsn: original message unreadable, report sent without it', { entry: entry.id, err });
      return undefined;
    },
  );
  const text = buildDsn({
    hostname: deps.hostname,
    to,
    envId: entry.envId,
    arrivalDate: entry.createdAt,
    recipients: reports.map((r) => ({
      address: r.recipient.address,
      action: r.action,
      orcpt: r.recipient.orcpt,
      reply: r.outcome.reply || undefined,
      remoteMta: r.outcome.remoteMta,
      lastAttemptAt: at,
      willRetryUntil: r.action === 'delayed' ? entry.createdAt + deps.policy.lifetimeMs : undefined,
    })),
    returned,
    id: deps.newId(),
    date: (deps.now ?? Date.now)(),
  });
  await deps.sender.send({ recipient: to, text, idempotencyKey });
  deps.log?.info('dsn sent', { entry: entry.id, key: idempotencyKey, actions: reports.map((r) => r.action) });
}

/** Decides (dsnPolicy.planReports) and sends the DSN an attempt calls for; call it after OutboundQueue.complete. */
export async function reportOutcome(
  entry: QueueEntry,
  attempt: AttemptRecord,
  deps: ReportDeps,
): Promise<{ readonly reports: readonly PlannedReport[]; readonly idempotencyKey?: string }> {
  const reports = planReports(entry, attempt, deps.policy);
  if (reports.length === 0) return { reports };
  const idempotencyKey = reportKey(entry.id, reports);
  await sendReport(entry, attempt.at, reports, idempotencyKey, deps);
  return { reports, idempotencyKey };
}

/** Sends the DSN for a runner's report; delivered recipients are 'relayed' (the runner cannot tell more). */
export async function sendRunnerReport(report: OutcomeReport, deps: ReportDeps): Promise<void> {
  if (report.entry.mailFrom === '') return;
  const as =
    (action: DsnAction) =>
    (r: QueuedRecipient): PlannedReport => ({
      recipient: r,
      action,
      outcome: { address: r.address, result: 'failed', reply: r.lastReply ?? '', remoteMta: r.remoteMta },
    });
  const reports = [
    ...report.failed.map(as('failed')),
    ...report.delayed.map(as('delayed')),
    ...report.delivered.map(as('relayed')),
  ];
  if (reports.length > 0) await sendReport(report.entry, report.at, reports, report.idempotencyKey, deps);
}
