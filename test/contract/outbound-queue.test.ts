/**
 * OutboundQueue contract (lib/core/outbound.ts) on the DynamoDB adapter, through the real SDK against DynamoDB
 * Local: idempotent enqueue, due order, one claim at a time, claims that expire, per-recipient state.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { AttemptRecord } from '../../lib/core/outbound.ts';
import { entryInput, listAll, type QueueFixture, queueFixture } from './outbound-queue-support.ts';

let f: QueueFixture;
before(async () => {
  f = await queueFixture();
});

const attempt = (at: number, nextAttemptAt: number, outcomes: AttemptRecord['outcomes']): AttemptRecord => ({
  at,
  nextAttemptAt,
  outcomes,
});

test('enqueue writes every entry, all recipients scheduled and due at once', async () => {
  const a = entryInput('a.example', ['x', 'y'], { envId: 'env-1', ret: 'HDRS' });
  const b = entryInput('b.example', ['z'], { accountId: 'acct-1' });
  assert.deepEqual(await f.queue.enqueue([a, b], `k-${a.id}`), { duplicate: false });
  const got = await f.queue.get(a.id);
  assert.ok(got);
  assert.equal(got.domain, 'a.example');
  assert.equal(got.envId, 'env-1');
  assert.equal(got.ret, 'HDRS');
  assert.equal(got.attempts, 0);
  assert.deepEqual(
    got.recipients.map((r) => [r.address, r.status, r.attempts]),
    [
      ['x@a.example', 'scheduled', 0],
      ['y@a.example', 'scheduled', 0],
    ],
  );
  assert.ok(got.nextAttemptAt <= f.now());
  assert.equal((await f.queue.get(b.id))?.accountId, 'acct-1');
  const due = (await f.queue.due(f.now(), 100)).map((e) => e.id);
  assert.ok(due.includes(a.id) && due.includes(b.id));
});

test('an enqueue without entries or an entry without recipients is refused', async () => {
  await assert.rejects(f.queue.enqueue([], 'none'), { name: 'InvalidInputError' });
  await assert.rejects(f.queue.enqueue([entryInput('e.example', [])], 'empty'), { name: 'InvalidInputError' });
});

test('a remote reply is kept to 1000 characters, so no server can grow an entry past what DynamoDB holds', async () => {
  const a = entryInput('long.example', ['x']);
  await f.queue.enqueue([a], `long-${a.id}`);
  assert.ok(await f.queue.claim(a.id, 'r', f.now() + 60_000));
  const reply = `451-${'x'.repeat(300_000)}`;
  assert.ok(
    await f.queue.complete(
      a.id,
      'r',
      attempt(f.now(), f.now() + 1000, [{ address: 'x@long.example', result: 'deferred', reply }]),
    ),
  );
  const got = (await f.queue.get(a.id))!;
  assert.equal(got.recipients[0].lastReply?.length, 1000);
  assert.ok(got.recipients[0].lastReply?.startsWith('451-xxx'));
});

test('a second enqueue with the same idempotency key writes nothing (a retried submission)', async () => {
  const a = entryInput('dup.example', ['x']);
  assert.equal((await f.queue.enqueue([a], `dup-${a.id}`)).duplicate, false);
  // The retry carries new entry ids (the submission made them again): still nothing may be written.
  const again = entryInput('dup.example', ['x']);
  assert.equal((await f.queue.enqueue([again], `dup-${a.id}`)).duplicate, true);
  assert.equal(await f.queue.get(again.id), undefined);
  const concurrent = await Promise.all(
    [1, 2, 3].map(() => f.queue.enqueue([entryInput('dup.example', ['y'])], `dup2-${a.id}`)),
  );
  assert.equal(concurrent.filter((r) => !r.duplicate).length, 1, 'concurrent retries: exactly one writes');
});

test('an enqueue of more entries than one transaction holds is still idempotent', async () => {
  const entries = Array.from({ length: 120 }, (_, i) => entryInput(`d${i}.many.example`, ['x']));
  const key = `many-${entries[0].id}`;
  assert.equal((await f.queue.enqueue(entries, key)).duplicate, false);
  assert.equal((await f.queue.get(entries[119].id))?.domain, 'd119.many.example');
  const retry = entries.map((e) => ({ ...e, id: `${e.id}R` }));
  assert.equal((await f.queue.enqueue(retry, key)).duplicate, true);
  assert.equal(await f.queue.get(retry[0].id), undefined);
  assert.equal(await f.queue.get(retry[119].id), undefined);
});

test('two runners racing to claim the same entry: exactly one wins', async () => {
  const a = entryInput('race.example', ['x']);
  await f.queue.enqueue([a], `race-${a.id}`);
  const until = f.now() + 60_000;
  const runners = Array.from({ length: 8 }, () => f.other());
  const results = await Promise.all(runners.map((q, i) => q.claim(a.id, `runner-${i}`, until)));
  assert.equal(results.filter(Boolean).length, 1);
  const winner = results.findIndex(Boolean);
  assert.equal(results[winner]?.id, a.id);
  assert.equal(await f.queue.claim(a.id, 'late-runner', until), undefined, 'held: no one else takes it');
  assert.ok(!(await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id), 'a claimed entry is not offered');
});

test("a crashed runner's claim expires: the entry is due again and another runner takes it", async () => {
  const a = entryInput('crash.example', ['x']);
  await f.queue.enqueue([a], `crash-${a.id}`);
  assert.ok(await f.queue.claim(a.id, 'dead-runner', f.now() + 30_000));
  assert.equal(await f.queue.claim(a.id, 'live-runner', f.now() + 30_000), undefined);
  f.advance(31_000);
  assert.ok(
    (await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id),
    'due once the claim ran out',
  );
  assert.ok(await f.queue.claim(a.id, 'live-runner', f.now() + 30_000));
  const late = attempt(f.now(), f.now(), [{ address: 'x@crash.example', result: 'delivered', reply: '250 ok' }]);
  assert.equal(await f.queue.complete(a.id, 'dead-runner', late), false, 'the old owner cannot complete');
  assert.equal((await f.queue.get(a.id))?.recipients[0].status, 'scheduled', 'nothing written by it');
});

test('complete records each recipient: delivered, deferred with the reply, failed; only pending ones retry', async () => {
  const a = entryInput('mixed.example', ['ok', 'later', 'bad']);
  await f.queue.enqueue([a], `mixed-${a.id}`);
  const t0 = f.now();
  assert.ok(await f.queue.claim(a.id, 'r1', t0 + 60_000));
  const first = attempt(t0, t0 + 300_000, [
    { address: 'ok@mixed.example', result: 'delivered', reply: '250 2.0.0 queued as A', remoteMta: 'mx.mixed.example' },
    { address: 'later@mixed.example', result: 'deferred', reply: '451 4.7.1 greylisted' },
    { address: 'bad@mixed.example', result: 'failed', reply: '550 5.1.1 no such user' },
  ]);
  assert.equal(await f.queue.complete(a.id, 'r1', first), true);
  const got = (await f.queue.get(a.id))!;
  assert.equal(got.attempts, 1);
  assert.equal(got.nextAttemptAt, t0 + 300_000);
  assert.deepEqual(
    got.recipients.map((r) => [r.status, r.attempts, r.lastReply, r.lastAttemptAt]),
    [
      ['delivered', 1, '250 2.0.0 queued as A', t0],
      ['deferred', 1, '451 4.7.1 greylisted', t0],
      ['failed', 1, '550 5.1.1 no such user', t0],
    ],
  );
  assert.equal(got.recipients[0].remoteMta, 'mx.mixed.example');
  assert.equal(await f.queue.claim(a.id, 'r2', f.now() + 60_000), undefined, 'not due before nextAttemptAt');
  assert.ok(!(await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id));

  f.advance(300_000);
  assert.ok((await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id));
  assert.ok(await f.queue.claim(a.id, 'r2', f.now() + 60_000));
  const t1 = f.now();
  // An outcome for a recipient that is no longer pending changes nothing about it.
  const second = attempt(t1, t1, [
    { address: 'later@mixed.example', result: 'delivered', reply: '250 ok' },
    { address: 'ok@mixed.example', result: 'failed', reply: '550 late' },
  ]);
  assert.equal(await f.queue.complete(a.id, 'r2', second), true);
  const done = (await f.queue.get(a.id))!;
  assert.deepEqual(
    done.recipients.map((r) => [r.status, r.attempts]),
    [
      ['delivered', 1],
      ['delivered', 2],
      ['failed', 1],
    ],
  );
  assert.equal(done.attempts, 2);
  assert.equal(done.nextAttemptAt, t1, 'finished: when it finished');
  assert.equal(await f.queue.claim(a.id, 'r3', f.now() + 60_000), undefined, 'nothing pending: no claim');
  assert.equal(await f.queue.retryNow(a.id), false, 'nothing pending: nothing to retry');
  assert.ok(!(await f.queue.due(f.now() + 10 ** 9, 1000)).some((e) => e.id === a.id), 'out of the due index');
});

test('due gives the oldest due first, at most limit, and nothing due later', async () => {
  const q = f.other();
  const ids: string[] = [];
  for (const d of ['o1', 'o2', 'o3']) {
    const e = entryInput(`${d}.order.example`, ['x']);
    await q.enqueue([e], `order-${e.id}`);
    ids.push(e.id);
    f.advance(5);
  }
  const due = (await q.due(f.now(), 1000)).map((e) => e.id).filter((id) => ids.includes(id));
  assert.deepEqual(due, ids);
  assert.equal((await q.due(f.now(), 2)).length, 2);
  assert.deepEqual(await q.due(0, 1000), []);
});

test('retryNow makes a deferred entry due now; remove deletes it; unknown ids answer false', async () => {
  const a = entryInput('retry.example', ['x']);
  await f.queue.enqueue([a], `retry-${a.id}`);
  assert.ok(await f.queue.claim(a.id, 'r', f.now() + 60_000));
  const far = f.now() + 86_400_000;
  await f.queue.complete(
    a.id,
    'r',
    attempt(f.now(), far, [{ address: 'x@retry.example', result: 'deferred', reply: '451 x' }]),
  );
  assert.ok(!(await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id));
  assert.equal(await f.queue.retryNow(a.id), true);
  assert.ok((await f.queue.due(f.now(), 1000)).some((e) => e.id === a.id));
  assert.ok(await f.queue.claim(a.id, 'r2', f.now() + 60_000), 'claimable at once');
  assert.equal(await f.queue.remove(a.id), true);
  assert.equal(await f.queue.get(a.id), undefined);
  assert.equal(await f.queue.remove(a.id), false);
  assert.equal(await f.queue.retryNow('01NOSUCHENTRY'), false);
  assert.equal(await f.queue.complete(a.id, 'r2', attempt(f.now(), f.now(), [])), false, 'removed: claim lost');
});

test('list pages through every entry, pending first, then finished', async () => {
  const fresh = await queueFixture();
  const entries = Array.from({ length: 230 }, (_, i) => entryInput(`l${i}.list.example`, ['x']));
  await fresh.queue.enqueue(entries, 'list-all');
  const finished = entries[5];
  assert.ok(await fresh.queue.claim(finished.id, 'r', fresh.now() + 60_000));
  await fresh.queue.complete(
    finished.id,
    'r',
    attempt(fresh.now(), fresh.now(), [{ address: 'x@l5.list.example', result: 'delivered', reply: '250 ok' }]),
  );
  const ids = await listAll(fresh.queue);
  assert.equal(ids.length, 230);
  assert.equal(new Set(ids).size, 230);
  assert.equal(ids.at(-1), finished.id, 'the finished entry comes after every pending one');
});
