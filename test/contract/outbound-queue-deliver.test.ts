/**
 * The deliver function as the emulator runs it (createHandlers + LocalInvoker, JSON round-tripped like a
 * Lambda invocation), the choice of its parts from the configuration, and the kicker that starts it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDkimConfig, loadOutboundConfig } from '../../lib/core/config.ts';
import { createLogger, type Logger, silentLogger } from '../../lib/core/log.ts';
import { DeliverKicker } from '../../lib/outbound/deliverKicker.ts';
import { createHandlers } from '../../lib/pipeline/handlers.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { outboundParts } from '../../lib/storage/aws/queueWiring.ts';
import { RecordingTransport, runnerHarness } from './outbound-queue-runner-support.ts';
import { queueFixture } from './outbound-queue-support.ts';

const ctx = (log: Logger) => ({ endpoints: {}, dkim: loadDkimConfig({}), log });

test("invoking 'deliver' works the queue and answers the pass totals as JSON", async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const storage = { ...f.storage, queue: f.queue };
  const config = loadOutboundConfig({ POSTERN_OUTBOUND_TRANSPORT: 'outbox', POSTERN_RETRY_SCHEDULE: '1' });
  const parts = { config, transport: h.transport, log: silentLogger };
  const invoker = new LocalInvoker(createHandlers(storage, { outbound: parts }));
  await h.enqueue('inv.example', ['x', 'y']);
  const result = await invoker.invoke('deliver', {});
  assert.deepEqual(result, { due: 1, attempted: 1, delivered: 2, deferred: 0, failed: 0, unrecorded: 0 });
  assert.equal(h.transport.sent.length, 1);

  const without = new LocalInvoker(createHandlers(storage));
  await assert.rejects(without.invoke('deliver', {}), /no outbound transport is wired/);
});

test('the transport POSTERN_OUTBOUND_TRANSPORT names is built; one not built in leaves the queue unworked, said in the log', async () => {
  const f = await queueFixture();
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l) });
  const config = loadOutboundConfig({ POSTERN_OUTBOUND_TRANSPORT: 'mx' });
  assert.equal(outboundParts(f.storage, config, ctx(log), { transports: {} }), undefined);
  assert.match(lines.join('\n'), /outbound transport not available.*"transport":"mx"/);
  const transport = new RecordingTransport();
  const built: string[] = [];
  const parts = outboundParts(f.storage, config, ctx(log), {
    transports: { mx: () => transport },
    signer: () => {
      built.push('signer');
      return { sign: async () => '' };
    },
    reportOutcome: () => {
      built.push('dsn');
      return async () => {};
    },
  });
  assert.equal(parts?.transport, transport);
  assert.deepEqual(built, ['signer', 'dsn']);
});

test('kicks during a run fold into one more run; the timer kicks; stop waits for the run', async () => {
  let runs = 0;
  let active = 0;
  let maxActive = 0;
  const kicker = new DeliverKicker(async () => {
    runs++;
    active++;
    maxActive = Math.max(maxActive, active);
    await sleep(50);
    active--;
  }, silentLogger);
  for (let i = 0; i < 20; i++) kicker.kick();
  await sleep(20);
  for (let i = 0; i < 20; i++) kicker.kick();
  await sleep(200);
  assert.equal(runs, 2, 'a burst of 40 kicks: the run going and one more');
  kicker.kick();
  kicker.kick();
  await kicker.stop();
  assert.equal(runs, 3, 'stop waits for the run going and drops the one asked for meanwhile');
  assert.equal(maxActive, 1, 'never two runs at once from one kicker');

  let starts: number[] = [];
  const spaced = new DeliverKicker(
    async () => {
      starts.push(Date.now());
    },
    silentLogger,
    100,
  );
  for (let i = 0; i < 3; i++) {
    spaced.kick();
    spaced.kick();
    await sleep(20);
  }
  await sleep(250);
  await spaced.stop();
  assert.equal(starts.length, 2, 'kicks within the spacing fold into one later run');
  assert.ok(starts[1] - starts[0] >= 95, `runs start at least the spacing apart (${starts[1] - starts[0]} ms)`);
  starts = [];

  const failing = new DeliverKicker(async () => {
    runs++;
    throw new Error('deliver failed');
  }, silentLogger);
  runs = 0;
  failing.start(30);
  await sleep(200);
  await failing.stop();
  assert.ok(runs >= 3, `the timer keeps kicking after a failure (${runs})`);
  const after = runs;
  await sleep(100);
  assert.equal(runs, after, 'stopped');
});
