/**
 * The queue runner: one pass takes the entries due now, claims each (one runner per entry at a time), sends
 * its pending recipients through the transport (signed just before), records what happened per recipient
 * and releases the claim, then tells the sender what the DSN rules say to tell.
 *
 * Crash safety, step by step (test/contract/outbound-queue-runner.test.ts and -kill.test.ts fail it at each):
 * - before the claim, or between claim and deliver: nothing was sent; the claim runs out and the entry is
 *   due again, so nothing is lost.
 * - between a successful deliver and complete (or complete failing every retry): the next hop has the
 *   message but the queue does not know; when the claim runs out the recipients are sent again. This is the
 *   one window in which a message can go twice, and only where the transport reported success before we
 *   crashed: the claim is taken for longer than any attempt may last, so no second runner overlaps it.
 * - between complete and the report: the attempt is recorded; that report (DSN) is not sent.
 */
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { AttemptRecord, MessageSigner, OutboundQueue, QueueEntry, Transport } from '../core/outbound.ts';
import type { BlobStore } from '../core/ports.ts';
import { mayReport, outcomeReport, type ReportOutcome } from './runnerReport.ts';
import { send, settle } from './runnerSend.ts';
import { nextAttemptAt, type RetryPolicy } from './schedule.ts';

export interface RunnerPolicy extends RetryPolicy {
  readonly delayWarningMs: number;
  /** Entries delivered at the same time in one pass. */
  readonly concurrency: number;
  /** Entries one pass takes from the index. */
  readonly batchSize: number;
  /** How long a claim lasts: longer than any attempt may take (the deliver function's timeout and more). */
  readonly claimMs: number;
}

export interface RunnerDeps {
  readonly queue: OutboundQueue;
  readonly blobs: BlobStore;
  readonly transport: Transport;
  /** Absent: messages go unsigned. */
  readonly signer?: MessageSigner;
  /** Absent: no DSNs are sent. */
  readonly reportOutcome?: ReportOutcome;
  readonly policy: RunnerPolicy;
  readonly log: Logger;
  readonly now?: () => number;
  /** Names this runner in claims (a random suffix is added per claim). */
  readonly owner?: string;
  /** OutboundRecipients per result and QueueOldestAgeSeconds (absent: not counted). */
  readonly metrics?: Metrics;
}

export interface PassResult {
  /** Entries the index offered. */
  readonly due: number;
  /** Entries this runner took and attempted. */
  readonly attempted: number;
  readonly delivered: number;
  readonly deferred: number;
  readonly failed: number;
  /** Attempts whose result could not be recorded (claim lost, or the queue failing): they will be retried. */
  readonly unrecorded: number;
}

export const DEFAULT_RUNNER_LIMITS = { batchSize: 50, claimMs: 15 * 60_000 } as const;

/** Tries to write the attempt a few times: each failure here is a possible second delivery later. */
const COMPLETE_ATTEMPTS = 3;

async function record(deps: RunnerDeps, entry: QueueEntry, owner: string, attempt: AttemptRecord): Promise<boolean> {
  for (let i = 1; ; i++) {
    try {
      return await deps.queue.complete(entry.id, owner, attempt);
    } catch (err) {
      if (i >= COMPLETE_ATTEMPTS) throw err;
      deps.log.warn('recording the attempt failed, retrying', { entry: entry.id, err });
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}

type EntryResult = Pick<PassResult, 'delivered' | 'deferred' | 'failed' | 'unrecorded'> & { attempted: number };
const NOTHING: EntryResult = { attempted: 0, delivered: 0, deferred: 0, failed: 0, unrecorded: 0 };

/** Claims, sends, records and reports one entry. */
async function attemptEntry(deps: RunnerDeps, id: string): Promise<EntryResult> {
  const now = deps.now ?? Date.now;
  const owner = `${deps.owner ?? 'runner'}:${randomId(9)}`;
  const entry = await deps.queue.claim(id, owner, now() + deps.policy.claimMs);
  if (!entry) return NOTHING;
  const log = deps.log.child({ entry: entry.id, domain: entry.domain });
  const raw = await send(deps, entry);
  const at = now();
  const { outcomes, expired: gaveUp } = settle(entry, raw, at, deps.policy);
  const attempt = { at, outcomes, nextAttemptAt: nextAttemptAt(deps.policy, entry.createdAt, at, entry.attempts + 1) };
  const count = (r: string) => outcomes.filter((o) => o.result === r).length;
  const result = { attempted: 1, delivered: count('delivered'), deferred: count('deferred'), failed: count('failed') };
  let recorded = false;
  try {
    recorded = await record(deps, entry, owner, attempt);
  } catch (err) {
    log.error('attempt not recorded: it will be made again once the claim runs out', { err });
  }
  if (!recorded) {
    log.warn('attempt not recorded (claim lost or queue failing); its recipients may be sent again', { owner });
    return { ...result, unrecorded: 1 };
  }
  log.info('attempt', { ...result, nextAttemptAt: count('deferred') ? attempt.nextAttemptAt : undefined });
  // reading the entry back costs a request: only when this attempt can call for a report
  if (mayReport(entry, outcomes, at, deps.policy.delayWarningMs)) {
    const reportsOnward = new Set(outcomes.filter((o) => o.handedTo === 'dsn-relay').map((o) => o.address));
    await report(deps, entry, at, gaveUp, reportsOnward, log);
  }
  return { ...result, unrecorded: 0 };
}

/** `reportsOnward`: delivered to a next hop that took the DSN parameters, which reports success itself. */
async function report(
  deps: RunnerDeps,
  before: QueueEntry,
  at: number,
  gaveUp: Set<string>,
  reportsOnward: ReadonlySet<string>,
  log: Logger,
) {
  if (!deps.reportOutcome) return;
  try {
    const after = await deps.queue.get(before.id);
    const r = after && outcomeReport(before, after, at, deps.policy.delayWarningMs, gaveUp);
    const ours = r && { ...r, delivered: r.delivered.filter((d) => !reportsOnward.has(d.address)) };
    if (ours && ours.failed.length + ours.delayed.length + ours.delivered.length > 0) await deps.reportOutcome(ours);
  } catch (err) {
    log.error('delivery status notification not sent', { err });
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One pass over the entries due now. A failure of one entry's claim is logged and leaves it for later. */
export async function runPass(deps: RunnerDeps): Promise<PassResult> {
  const now = deps.now ?? Date.now;
  const due = await deps.queue.due(now(), deps.policy.batchSize);
  const oldest = due.reduce((min, e) => Math.min(min, e.createdAt), now());
  deps.metrics?.gauge('QueueOldestAgeSeconds', {}, Math.round((now() - oldest) / 1000));
  const results = await pool(due, deps.policy.concurrency, (entry) =>
    attemptEntry(deps, entry.id).catch((err) => {
      deps.log.warn('queue entry skipped this pass', { entry: entry.id, err });
      return NOTHING;
    }),
  );
  const sum = (k: keyof EntryResult) => results.reduce((n, r) => n + r[k], 0);
  for (const result of ['delivered', 'deferred', 'failed'] as const) {
    if (sum(result) > 0) deps.metrics?.count('OutboundRecipients', { Result: result }, sum(result));
  }
  return {
    due: due.length,
    attempted: sum('attempted'),
    delivered: sum('delivered'),
    deferred: sum('deferred'),
    failed: sum('failed'),
    unrecorded: sum('unrecorded'),
  };
}

/** Passes until nothing more is due (or a full batch keeps coming) or the time budget is spent. */
export async function drainQueue(deps: RunnerDeps, budgetMs: number): Promise<PassResult> {
  const started = Date.now();
  let total: PassResult = { due: 0, attempted: 0, delivered: 0, deferred: 0, failed: 0, unrecorded: 0 };
  for (;;) {
    const pass = await runPass(deps);
    total = Object.fromEntries(
      Object.entries(total).map(([k, v]) => [k, v + pass[k as keyof PassResult]]),
    ) as unknown as PassResult;
    if (pass.due < deps.policy.batchSize || pass.attempted === 0 || Date.now() - started >= budgetMs) return total;
  }
}
