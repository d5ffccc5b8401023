/**
 * The `deliver` function: queue passes for as long as its time budget allows. In AWS it is a Lambda, run by
 * an EventBridge rule every minute and started by the gateway right after an enqueue; in the emulator the
 * same handler runs in the gateway process, on a timer and after each enqueue (DeliverKicker).
 */
import type { OutboundConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { MessageSigner, Transport } from '../core/outbound.ts';
import type { Storage } from '../core/ports.ts';
import { DEFAULT_RUNNER_LIMITS, drainQueue, type PassResult, type RunnerDeps } from './runner.ts';
import type { ReportOutcome } from './runnerReport.ts';

/** What the deliver step uses besides storage: the chosen transport, and the signer and DSN hook if any. */
export interface OutboundParts {
  readonly config: OutboundConfig;
  readonly transport: Transport;
  readonly signer?: MessageSigner;
  readonly reportOutcome?: ReportOutcome;
  readonly log: Logger;
  /** QueueDepth, QueueOldestAgeSeconds, OutboundRecipients; flushed by whoever runs the handler. */
  readonly metrics?: Metrics;
}

/** How long one invocation keeps starting passes (the Lambda's timeout is longer, see lib/infra/functions.ts). */
export const DELIVER_BUDGET_MS = 4 * 60_000;

export function runnerDeps(storage: Pick<Storage, 'queue' | 'blobs'>, parts: OutboundParts): RunnerDeps {
  const { config } = parts;
  return {
    queue: storage.queue,
    blobs: storage.blobs,
    transport: parts.transport,
    signer: parts.signer,
    reportOutcome: parts.reportOutcome,
    log: parts.log,
    metrics: parts.metrics,
    owner: `deliver-${process.pid}`,
    policy: {
      retrySchedule: config.retrySchedule,
      queueLifetimeMs: config.queueLifetimeMs,
      delayWarningMs: config.delayWarningMs,
      concurrency: config.concurrency,
      ...DEFAULT_RUNNER_LIMITS,
    },
  };
}

/** The handler: the event carries nothing (a schedule tick or a kick); the result is the passes' totals. */
export function deliverHandler(storage: Storage, parts: OutboundParts | undefined): () => Promise<PassResult> {
  if (!parts) {
    return async () => {
      throw new Error('deliver: no outbound transport is wired into this process');
    };
  }
  const deps = runnerDeps(storage, parts);
  return async () => {
    const result = await drainQueue(deps, DELIVER_BUDGET_MS);
    if (parts.metrics) await measureDepth(storage, parts.metrics, parts.log);
    return result;
  };
}

/** QueueDepth after the passes: one COUNT query per invocation; a failure costs the metric, not the run. */
async function measureDepth(storage: Pick<Storage, 'queue'>, metrics: Metrics, log: Logger): Promise<void> {
  try {
    metrics.gauge('QueueDepth', {}, await storage.queue.countPending());
  } catch (err) {
    log.warn('queue depth not measured', { err });
  }
}
