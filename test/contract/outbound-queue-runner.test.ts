/**
 * The queue runner (lib/outbound/runner.ts) over the real queue and blob store: per-recipient outcomes, the
 * retry schedule and lifetime, DSN reports, signing, bounded concurrency, racing runners, and a fault at each
 * step (DynamoDB, S3, signer, transport, the record of the attempt) losing nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageSigner } from '../../lib/core/outbound.ts';
import { drainQueue, runPass } from '../../lib/outbound/runner.ts';
import { MESSAGE, readAll, runnerHarness, TEST_POLICY } from './outbound-queue-runner-support.ts';
import { queueFixture } from './outbound-queue-support.ts';

test('a pass sends each pending entry once and records every recipient delivered; the next pass has nothing', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const a = await h.enqueue('a.example', ['x', 'y'], { envId: 'E1', ret: 'HDRS' });
  const b = await h.enqueue('b.example', ['z']);
  const pass = await runPass(h.deps());
  assert.deepEqual(pass, { due: 2, attempted: 2, delivered: 3, deferred: 0, failed: 0, unrecorded: 0 });
  const toA = h.transport.sent.find((s) => s.envelope.domain === 'a.example')!;
  assert.deepEqual(toA.envelope.recipients, ['x@a.example', 'y@a.example']);
  assert.equal(toA.envelope.mailFrom, 'alice@example.org');
  assert.equal(toA.envelope.dsn?.envId, 'E1');
  assert.equal(toA.text, MESSAGE, 'unsigned without a signer: the message as queued');
  assert.equal(toA.size, Buffer.byteLength(MESSAGE));
  for (const id of [a.id, b.id]) {
    const e = (await f.queue.get(id))!;
    assert.ok(
      e.recipients.every((r) => r.status === 'delivered' && r.attempts === 1 && r.lastReply === '250 2.0.0 ok'),
    );
  }
  assert.equal((await runPass(h.deps())).attempted, 0);
  assert.equal(h.transport.sent.length, 2);
  assert.deepEqual(h.reports, [], 'default NOTIFY: no report of success');
});

test('deferred recipients are retried on the schedule, alone; 5xx ones fail at once', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  h.transport.answers.set('later@m.example', (n) => (n < 3 ? 'deferred' : 'delivered'));
  h.transport.answers.set('bad@m.example', 'failed');
  const e = await h.enqueue('m.example', ['ok', 'later', 'bad']);
  const t0 = f.now();
  await runPass(h.deps());
  let got = (await f.queue.get(e.id))!;
  assert.deepEqual(
    got.recipients.map((r) => r.status),
    ['delivered', 'deferred', 'failed'],
  );
  assert.ok(got.nextAttemptAt >= t0 + 300_000 && got.nextAttemptAt < t0 + 310_000, 'first retry after 300 s');
  assert.equal(h.reports.length, 1);
  assert.deepEqual(
    h.reports[0].failed.map((r) => r.address),
    ['bad@m.example'],
  );
  assert.deepEqual(h.reports[0].expired, []);

  f.advance(299_000);
  assert.equal((await runPass(h.deps())).attempted, 0, 'not before its time');
  f.advance(2_000);
  await runPass(h.deps());
  got = (await f.queue.get(e.id))!;
  assert.deepEqual(h.transport.sent.at(-1)?.envelope.recipients, ['later@m.example'], 'only the pending one again');
  assert.equal(got.recipients[1].attempts, 2);
  const second = got.nextAttemptAt - f.now();
  assert.ok(second > 590_000 && second <= 600_000, `then 600 s (${second})`);
  f.advance(600_000);
  await runPass(h.deps());
  got = (await f.queue.get(e.id))!;
  assert.equal(got.recipients[1].status, 'delivered');
  assert.equal(got.attempts, 3);
  assert.equal(h.transport.deliveriesTo('ok@m.example'), 1);
  assert.equal(h.transport.deliveriesTo('later@m.example'), 3);
});

test('past the queue lifetime a deferred recipient fails, with the last reply, and the sender is told', async () => {
  const f = await queueFixture();
  const policy = { ...TEST_POLICY, retrySchedule: [600], queueLifetimeMs: 1_000_000, delayWarningMs: 500_000 };
  const h = runnerHarness(f, policy);
  h.transport.answers.set('slow@l.example', 'deferred');
  const e = await h.enqueue('l.example', ['slow']);
  await runPass(h.deps());
  assert.equal(h.reports.length, 0, 'young: no delay notice yet');
  f.advance(600_000);
  await runPass(h.deps());
  assert.equal(h.reports.length, 1, 'past the delay warning: one delay notice');
  assert.deepEqual(
    h.reports[0].delayed.map((r) => r.address),
    ['slow@l.example'],
  );
  const { nextAttemptAt: nextDue, createdAt } = (await f.queue.get(e.id))!;
  assert.equal(nextDue, createdAt + 1_000_000, 'the last retry is moved up to the end of the lifetime');
  f.advance(nextDue - f.now());
  await runPass(h.deps());
  const got = (await f.queue.get(e.id))!;
  assert.equal(got.recipients[0].status, 'failed');
  assert.equal(got.recipients[0].lastReply, '451 4.7.1 try later');
  assert.equal(h.reports.length, 2);
  assert.deepEqual(h.reports[1].expired, ['slow@l.example']);
  assert.deepEqual(h.reports[1].delayed, [], 'one delay notice, not one per attempt');
  assert.equal(h.reports[1].idempotencyKey, `dsn:${e.id}:3`);
});

test('NOTIFY: SUCCESS is reported, NEVER silences failures, and the null sender is never told', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  h.transport.answers.set('never@n.example', 'failed');
  h.transport.answers.set('x@null.example', 'failed');
  const e = await h.enqueue('n.example', [], {
    recipients: [
      { address: 'yes@n.example', notify: ['SUCCESS', 'FAILURE'] },
      { address: 'never@n.example', notify: [] },
    ],
  });
  await h.enqueue('null.example', ['x'], { mailFrom: '' });
  await runPass(h.deps());
  assert.equal(h.reports.length, 1);
  assert.equal(h.reports[0].entry.id, e.id);
  assert.deepEqual(
    h.reports[0].delivered.map((r) => r.address),
    ['yes@n.example'],
  );
  assert.deepEqual(h.reports[0].failed, []);
});

test('NOTIFY=SUCCESS handed to a next hop that takes DSN: it reports, we do not (RFC 3461 §6.2.6.1)', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  h.transport.dsnCapable.add('onward@d.example');
  await h.enqueue('d.example', [], {
    recipients: [
      { address: 'onward@d.example', notify: ['SUCCESS'] },
      { address: 'here@d.example', notify: ['SUCCESS'] },
    ],
  });
  await runPass(h.deps());
  assert.equal(h.reports.length, 1);
  assert.deepEqual(
    h.reports[0].delivered.map((r) => r.address),
    ['here@d.example'],
    'only the recipient whose next hop has no DSN gets our "relayed" report',
  );
  h.transport.dsnCapable.add('alone@d.example');
  await h.enqueue('d.example', [], { recipients: [{ address: 'alone@d.example', notify: ['SUCCESS'] }] });
  await runPass(h.deps());
  assert.equal(h.reports.length, 1, 'nothing to say: no report at all');
});

test('a signer puts its fields in front of the message; open gives the whole message each time', async () => {
  const f = await queueFixture();
  const domains: string[] = [];
  const signer: MessageSigner = {
    async sign(domain, open) {
      domains.push(domain);
      const text = await readAll(await open());
      return `DKIM-Signature: v=1; d=${domain}; len=${text.length}\r\n`;
    },
  };
  const h = runnerHarness(f);
  await h.enqueue('s.example', ['x'], { headerPrefix: 'X-Queued: 1\r\n', size: Buffer.byteLength(MESSAGE) + 13 });
  await h.enqueue('s2.example', ['x'], { mailFrom: '' });
  await runPass(h.deps({ signer }));
  const toS = h.transport.sent.find((s) => s.envelope.domain === 's.example')!;
  const signed = `DKIM-Signature: v=1; d=example.org; len=${MESSAGE.length + 13}\r\n`;
  assert.equal(toS.text, `${signed}X-Queued: 1\r\n${MESSAGE}`);
  assert.equal(toS.size, Buffer.byteLength(toS.text), 'size counts the signature');
  assert.deepEqual(domains.sort(), ['example.org', 'example.org'], 'null sender: the header From domain signs');
});

test('bounded concurrency: no more transport calls at once than the policy allows', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f, { ...TEST_POLICY, concurrency: 3 });
  h.transport.delayMs = 50;
  for (let i = 0; i < 10; i++) await h.enqueue(`c${i}.example`, ['x']);
  const pass = await runPass(h.deps());
  assert.equal(pass.attempted, 10);
  assert.equal(h.transport.maxInFlight, 3);
});

test('two runners at once: every entry is sent exactly once', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  h.transport.delayMs = 20;
  for (let i = 0; i < 12; i++) await h.enqueue(`r${i}.example`, ['x']);
  const other = runnerHarness(f);
  const [p1, p2] = await Promise.all([
    runPass(h.deps({ owner: 'one' })),
    runPass(other.deps({ owner: 'two', transport: h.transport })),
  ]);
  assert.equal(p1.attempted + p2.attempted, 12);
  assert.equal(h.transport.sent.length, 12);
  assert.equal(new Set(h.transport.sent.map((s) => s.envelope.domain)).size, 12);
});

test('drainQueue keeps passing while full batches come', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f, { ...TEST_POLICY, batchSize: 3 });
  for (let i = 0; i < 8; i++) await h.enqueue(`d${i}.example`, ['x']);
  const total = await drainQueue(h.deps(), 60_000);
  assert.equal(total.attempted, 8);
  assert.equal(h.transport.sent.length, 8);
});

// ---------------------------------------------------------------- faults at each step

test('fault: DynamoDB fails the due query: the pass fails, nothing is lost, the next pass sends', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  await h.enqueue('f1.example', ['x']);
  h.queue.fail('due');
  await assert.rejects(runPass(h.deps()), /injected due failure/);
  assert.equal(h.transport.sent.length, 0);
  assert.equal((await runPass(h.deps())).delivered, 1);
  assert.equal(h.transport.sent.length, 1);
});

test('fault: DynamoDB fails the claim: the entry waits for the next pass, unsent', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f2.example', ['x']);
  h.queue.fail('claim');
  assert.equal((await runPass(h.deps())).attempted, 0);
  assert.equal(h.transport.sent.length, 0);
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'scheduled');
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@f2.example'), 1);
});

test('fault: S3 fails reading the message: deferred with our 451, sent once on the retry', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f3.example', ['x']);
  h.blobs.fail('get');
  const pass = await runPass(h.deps());
  assert.equal(pass.deferred, 1);
  assert.equal(h.transport.sent.length, 0);
  const got = (await f.queue.get(e.id))!;
  assert.equal(got.recipients[0].status, 'deferred');
  assert.match(got.recipients[0].lastReply!, /^451 4\.3\.0/);
  f.advance(300_000);
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@f3.example'), 1);
});

test('fault: the message is gone from S3: its recipients fail (554 5.3.0), no endless retry', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f4.example', ['x']);
  await f.storage.blobs.delete(e.blobKey);
  await runPass(h.deps());
  const got = (await f.queue.get(e.id))!;
  assert.equal(got.recipients[0].status, 'failed');
  assert.match(got.recipients[0].lastReply!, /^554 5\.3\.0/);
  assert.equal(h.reports.length, 1);
});

test('fault: the signer fails: deferred, and the message never leaves unsigned', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f5.example', ['x']);
  const signer: MessageSigner = {
    sign: async () => {
      throw new Error('secrets manager unavailable');
    },
  };
  await runPass(h.deps({ signer }));
  assert.equal(h.transport.sent.length, 0);
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'deferred');
});

test('fault: the transport throws: deferred with our reply, sent once on the retry', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f6.example', ['x']);
  h.transport.failNext = 1;
  await runPass(h.deps());
  const got = (await f.queue.get(e.id))!;
  assert.equal(got.recipients[0].status, 'deferred');
  assert.match(got.recipients[0].lastReply!, /^451 4\.4\.0 recording transport failed/);
  f.advance(300_000);
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@f6.example'), 1);
});

test('fault: recording the attempt fails once: it is retried and the message went once', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('f7.example', ['x']);
  h.queue.fail('complete', 2);
  const pass = await runPass(h.deps());
  assert.equal(pass.unrecorded, 0);
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'delivered');
  f.advance(TEST_POLICY.claimMs + 1);
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@f7.example'), 1);
});

test('fault: the reporting hook fails: the attempt stays recorded, nothing is sent again', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  h.transport.answers.set('x@f8.example', 'failed');
  const e = await h.enqueue('f8.example', ['x']);
  const reportOutcome = async () => {
    throw new Error('dsn builder down');
  };
  await runPass(h.deps({ reportOutcome }));
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'failed');
  f.advance(TEST_POLICY.claimMs + 1);
  await runPass(h.deps());
  assert.equal(h.transport.sent.length, 1);
});

test('crash between deliver and complete: the entry is kept and, once the claim runs out, sent again (the one double)', async () => {
  const f = await queueFixture();
  const h = runnerHarness(f);
  const e = await h.enqueue('crash.example', ['x']);
  // Every write of the attempt fails, as when the runner dies right after the transport said 250.
  h.queue.fail('complete', 3);
  const pass = await runPass(h.deps());
  assert.equal(pass.unrecorded, 1);
  assert.equal(h.transport.deliveriesTo('x@crash.example'), 1);
  const held = (await f.queue.get(e.id))!;
  assert.equal(held.recipients[0].status, 'scheduled', 'nothing lost: the entry is still there');
  assert.equal((await runPass(h.deps())).attempted, 0, 'no other runner overlaps the claim');
  f.advance(TEST_POLICY.claimMs + 1);
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@crash.example'), 2, 'the next hop gets it a second time');
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'delivered');
  f.advance(TEST_POLICY.claimMs + 1);
  await runPass(h.deps());
  assert.equal(h.transport.deliveriesTo('x@crash.example'), 2, 'and never a third');
});
