/**
 * The EMF writer (lib/core/metrics.ts): every line is a CloudWatch Embedded Metric Format document that
 * CloudWatch Logs can extract (the _aws envelope, the namespace, dimension sets naming top-level members,
 * metric values as numbers at the top level), and counts are summed between flushes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmfMetrics, METRICS_NAMESPACE } from '../../lib/core/metrics.ts';
import { rejectReason } from '../../lib/smtp/rejectReason.ts';
import { REPLIES } from '../../lib/smtp/replies.ts';

interface EmfDoc {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [member: string]: unknown;
}

function capture(now = 1_750_000_000_000) {
  const lines: string[] = [];
  const metrics = createEmfMetrics({ sink: (line) => lines.push(line), now: () => now });
  const docs = () => lines.map((l) => JSON.parse(l) as EmfDoc);
  return { metrics, lines, docs };
}

/** Checks the EMF rules a document must keep for CloudWatch to extract it. */
function assertValidEmf(doc: EmfDoc): void {
  assert.equal(typeof doc._aws.Timestamp, 'number');
  assert.equal(doc._aws.CloudWatchMetrics.length, 1);
  const [directive] = doc._aws.CloudWatchMetrics;
  assert.equal(directive.Namespace, METRICS_NAMESPACE);
  for (const set of directive.Dimensions) {
    assert.ok(set.length <= 30);
    for (const name of set) assert.equal(typeof doc[name], 'string', `dimension ${name} is a top-level string`);
  }
  for (const m of directive.Metrics) {
    assert.ok(['Count', 'Seconds'].includes(m.Unit));
    assert.equal(typeof doc[m.Name], 'number', `metric ${m.Name} is a top-level number`);
  }
}

describe('EMF metrics', () => {
  it('sums counts between flushes: one line per dimension set, values at the top level', () => {
    const { metrics, docs } = capture();
    metrics.count('MessagesAccepted', { Listener: 'mx' });
    metrics.count('MessagesAccepted', { Listener: 'mx' });
    metrics.count('MessagesAccepted', { Listener: 'submission' }, 3);
    metrics.count('MessagesRejected', { Reason: 'relay-denied' });
    metrics.flush();
    const all = docs();
    assert.equal(all.length, 3);
    for (const doc of all) assertValidEmf(doc);
    assert.equal(all[0]._aws.Timestamp, 1_750_000_000_000);
    const mx = all.find((d) => d.Listener === 'mx');
    assert.deepEqual(mx?._aws.CloudWatchMetrics[0].Dimensions, [['Listener']]);
    assert.deepEqual(mx?._aws.CloudWatchMetrics[0].Metrics, [{ Name: 'MessagesAccepted', Unit: 'Count' }]);
    assert.equal(mx?.MessagesAccepted, 2);
    assert.equal(all.find((d) => d.Listener === 'submission')?.MessagesAccepted, 3);
    assert.equal(all.find((d) => d.Reason === 'relay-denied')?.MessagesRejected, 1);
  });

  it('puts metrics of one dimension set in one document, and writes nothing for an empty interval', () => {
    const { metrics, docs, lines } = capture();
    metrics.count('ConnectionsOpened', { Protocol: 'imap' }, 4);
    metrics.gauge('Connections', { Protocol: 'imap' }, 7);
    metrics.flush();
    assert.equal(lines.length, 1);
    const [doc] = docs();
    assertValidEmf(doc);
    assert.deepEqual(
      doc._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name),
      ['ConnectionsOpened', 'Connections'],
    );
    assert.equal(doc.Connections, 7);
    metrics.flush();
    assert.equal(lines.length, 1, 'nothing new: no line');
  });

  it('starts counting anew after a flush; a gauge reports its last value', () => {
    const { metrics, docs } = capture();
    metrics.count('LoginsFailed', { Protocol: 'pop3' }, 5);
    metrics.flush();
    metrics.count('LoginsFailed', { Protocol: 'pop3' });
    metrics.gauge('QueueDepth', {}, 10);
    metrics.gauge('QueueDepth', {}, 4);
    metrics.flush();
    const [first, second, depth] = docs();
    assert.equal(first.LoginsFailed, 5);
    assert.equal(second.LoginsFailed, 1);
    assertValidEmf(depth);
    assert.deepEqual(depth._aws.CloudWatchMetrics[0].Dimensions, [[]], 'no dimensions: one metric for the stack');
    assert.equal(depth.QueueDepth, 4);
  });

  it('samples pull gauges just before each flush', () => {
    const { metrics, docs } = capture();
    let open = 2;
    metrics.onFlush(() => metrics.gauge('Connections', { Protocol: 'smtp' }, open));
    metrics.flush();
    open = 5;
    metrics.flush();
    assert.deepEqual(
      docs().map((d) => d.Connections),
      [2, 5],
    );
  });

  it('seconds carry their unit', () => {
    const { metrics, docs } = capture();
    metrics.gauge('QueueOldestAgeSeconds', {}, 90);
    metrics.flush();
    assert.deepEqual(docs()[0]._aws.CloudWatchMetrics[0].Metrics, [{ Name: 'QueueOldestAgeSeconds', Unit: 'Seconds' }]);
  });
});

describe('rejection reasons', () => {
  it('names our replies by what they refuse, and other replies by their class', () => {
    assert.equal(rejectReason(REPLIES.relayDenied), 'relay-denied');
    assert.equal(rejectReason(REPLIES.unknownUser), 'unknown-user');
    assert.equal(rejectReason(REPLIES.messageTooBig), 'size');
    assert.equal(rejectReason(REPLIES.mailboxFull), 'quota');
    assert.equal(rejectReason(REPLIES.messageRateExceeded), 'rate-limit');
    assert.equal(rejectReason(REPLIES.bareLineEnding), 'policy');
    assert.equal(rejectReason(REPLIES.busy), 'temp-failure');
    assert.equal(rejectReason({ ...REPLIES.spam }), 'policy', 'a copy of a reply is not the reply');
  });
});
