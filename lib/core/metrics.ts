/**
 * The metrics port: counters and gauges with a small, closed set of names and dimensions, so the number of
 * CloudWatch metrics (each billed per month) stays fixed however much traffic there is.
 *
 * The implementation writes CloudWatch Embedded Metric Format lines (EMF) to the log stream: CloudWatch Logs
 * extracts the metrics from the gateway's and the Lambdas' log groups, with no PutMetricData call and no
 * cost beyond the log line. Counts are summed over a flush interval (60 s in the gateway) so that a busy
 * listener writes one line per dimension set a minute, not one per event; a gauge reports its last value.
 */

import type { ListenerFamily } from './config.ts';

/** Namespace of every Postern metric. */
export const METRICS_NAMESPACE = 'Postern';

/** Why a message or a recipient was refused (MessagesRejected's Reason): a closed set, one metric each. */
export const REJECT_REASONS = [
  'relay-denied',
  'unknown-user',
  'spam',
  'virus',
  'dmarc',
  'policy',
  'size',
  'quota',
  'rate-limit',
  'temp-failure',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The protocol families a connection or login belongs to (the listener families). */
export type Protocol = ListenerFamily;

/** Which SMTP side took the message. */
export type MessageListener = 'mx' | 'submission';

/** Every counter, with the dimensions it carries. */
export interface Counters {
  MessagesAccepted: { readonly Listener: MessageListener };
  MessagesRejected: { readonly Reason: RejectReason };
  ConnectionsOpened: { readonly Protocol: Protocol };
  LoginsFailed: { readonly Protocol: Protocol };
  /** Failed attempts of the store step (each retry counts). */
  StoreErrors: Record<string, never>;
  /** Outbound recipients attempted by the queue runner, by what became of them. */
  OutboundRecipients: { readonly Result: 'delivered' | 'deferred' | 'failed' };
}

/** Every gauge, with its dimensions and unit. */
export interface Gauges {
  Connections: { readonly Protocol: Protocol };
  /** Pending entries in the outbound queue. */
  QueueDepth: Record<string, never>;
  /** How long the longest-waiting pending entry that is due now has been in the queue. */
  QueueOldestAgeSeconds: Record<string, never>;
}

export type CounterName = keyof Counters;
export type GaugeName = keyof Gauges;

const UNITS: Record<CounterName | GaugeName, 'Count' | 'Seconds'> = {
  MessagesAccepted: 'Count',
  MessagesRejected: 'Count',
  ConnectionsOpened: 'Count',
  LoginsFailed: 'Count',
  StoreErrors: 'Count',
  OutboundRecipients: 'Count',
  Connections: 'Count',
  QueueDepth: 'Count',
  QueueOldestAgeSeconds: 'Seconds',
};

export interface Metrics {
  /** Adds `n` (default 1) to a counter. */
  count<N extends CounterName>(name: N, dimensions: Counters[N], n?: number): void;
  /** Sets a gauge; the value at the flush is reported. */
  gauge<N extends GaugeName>(name: N, dimensions: Gauges[N], value: number): void;
  /** Runs `sample` just before each flush (for gauges read from elsewhere, e.g. open connections). */
  onFlush(sample: () => void): void;
  /** Writes what was collected since the last flush (nothing when nothing was). */
  flush(): void;
}

/** Metrics that go nowhere (tests that do not look at them, programs without a log group). */
export const noMetrics: Metrics = { count: () => {}, gauge: () => {}, onFlush: () => {}, flush: () => {} };

/** One EMF record: the metrics that share a dimension set. */
interface Group {
  readonly dimensions: Record<string, string>;
  readonly values: Map<string, number>;
}

/**
 * Metrics written as EMF JSON lines to `sink` (the process's stdout, beside the structured log) at each
 * `flush()`; the caller flushes on a timer (gateway) or at the end of each invocation (Lambda).
 */
export function createEmfMetrics(opts: { sink: (line: string) => void; now?: () => number }): Metrics {
  const now = opts.now ?? Date.now;
  let groups = new Map<string, Group>();
  const samplers: (() => void)[] = [];
  const groupOf = (dimensions: Record<string, string>): Group => {
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : 1)));
    let group = groups.get(key);
    if (!group) {
      group = { dimensions: { ...dimensions }, values: new Map() };
      groups.set(key, group);
    }
    return group;
  };
  return {
    count(name, dimensions, n = 1) {
      const { values } = groupOf(dimensions);
      values.set(name, (values.get(name) ?? 0) + n);
    },
    gauge(name, dimensions, value) {
      groupOf(dimensions).values.set(name, value);
    },
    onFlush(sample) {
      samplers.push(sample);
    },
    flush() {
      for (const sample of samplers) sample();
      const flushed = groups;
      groups = new Map();
      const timestamp = now();
      for (const group of flushed.values()) {
        if (group.values.size > 0) opts.sink(JSON.stringify(emfRecord(group, timestamp)));
      }
    },
  };
}

/** The EMF document of one group (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html). */
function emfRecord(group: Group, timestamp: number): Record<string, unknown> {
  const names = [...group.values.keys()];
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(group.dimensions)],
          Metrics: names.map((name) => ({ Name: name, Unit: UNITS[name as CounterName] })),
        },
      ],
    },
    ...group.dimensions,
    ...Object.fromEntries(group.values),
  };
}

/** Flushes `metrics` every `intervalMs` (unref'd); the returned stop flushes one last time. */
export function flushEvery(metrics: Metrics, intervalMs: number): () => void {
  const timer = setInterval(() => metrics.flush(), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    metrics.flush();
  };
}
