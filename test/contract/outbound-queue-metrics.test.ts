/**
 * The queue runner's metrics over the real queue: QueueOldestAgeSeconds from the entries a pass found due
 * (no extra read), OutboundRecipients per result, and QueueDepth from countPending, as EMF documents.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEmfMetrics } from '../../lib/core/metrics.ts';
import { runPass } from '../../lib/outbound/runner.ts';
import { runnerHarness } from './outbound-queue-runner-support.ts';
import { queueFixture } from './outbound-queue-support.ts';

test('a pass reports the age of the oldest due entry and its recipients by result; nothing due is age 0', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const lines: string[] = [];
  const metrics = createEmfMetrics({ sink: (line) => lines.push(line), now: f.now });
  const flushed = () => {
    lines.length = 0;
    metrics.flush();
    return Object.assign({}, ...lines.map((l) => JSON.parse(l))) as Record<string, unknown>;
  };
  h.transport.answers.set('later@m.example', 'deferred');
  await h.enqueue('m.example', ['ok', 'later', 'also']);
  f.advance(120_000);
  await runPass({ ...h.deps(), metrics });
  metrics.gauge('QueueDepth', {}, await f.queue.countPending());
  const first = flushed();
  const age = first.QueueOldestAgeSeconds as number;
  // the fixture's clock is the real one plus what was advanced: the wait of a loaded machine adds to 120
  assert.ok(age >= 120 && age < 180, `age ${age}`);
  assert.equal(first.QueueDepth, 1, 'the deferred recipient keeps its entry pending');
  const byResult = lines.map((l) => JSON.parse(l)).filter((d) => 'OutboundRecipients' in d);
  assert.deepEqual(Object.fromEntries(byResult.map((d) => [d.Result, d.OutboundRecipients])), {
    delivered: 2,
    deferred: 1,
  });
  await runPass({ ...h.deps(), metrics });
  assert.deepEqual(flushed(), {
    _aws: (JSON.parse(lines[0]) as { _aws: unknown })._aws,
    QueueOldestAgeSeconds: 0,
  });
});
