/** LeaseStore contract: the POP3 maildrop lock (DESIGN.md rule 6) as a lease that frees itself. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '../../lib/core/ports.ts';
import { freshStorage } from '../support/storage.ts';

let storage: Storage;
before(async () => {
  storage = await freshStorage();
});

test('one holder at a time; renew and release only by the holder', async () => {
  const l = storage.leases;
  assert.equal(await l.acquire('pop3:a', 'one', 10_000), true);
  assert.equal(await l.acquire('pop3:a', 'two', 10_000), false);
  assert.equal(await l.acquire('pop3:a', 'one', 10_000), true, 'the holder may re-acquire');
  assert.equal(await l.renew('pop3:a', 'two', 10_000), false);
  assert.equal(await l.renew('pop3:a', 'one', 10_000), true);
  await l.release('pop3:a', 'two');
  assert.equal(await l.acquire('pop3:a', 'two', 10_000), false, 'a non-holder cannot release');
  await l.release('pop3:a', 'one');
  assert.equal(await l.acquire('pop3:a', 'two', 10_000), true);
});

test('a lease that is not renewed expires, so a dead holder frees the lock', async () => {
  const l = storage.leases;
  // long enough that the second acquire lands inside it even on a loaded machine (it once took > 200 ms)
  const ttlMs = 2500;
  const taken = Date.now();
  assert.equal(await l.acquire('pop3:b', 'dead-task', ttlMs), true);
  if (Date.now() - taken < ttlMs) assert.equal(await l.acquire('pop3:b', 'live-task', 10_000), false);
  await sleep(ttlMs - (Date.now() - taken) + 200);
  assert.equal(await l.acquire('pop3:b', 'live-task', 10_000), true);
  assert.equal(await l.renew('pop3:b', 'dead-task', 10_000), false, 'the old holder learns it lost the lease');
});

test('concurrent acquires: exactly one wins', async () => {
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => storage.leases.acquire('pop3:c', `owner-${i}`, 10_000)),
  );
  assert.equal(results.filter(Boolean).length, 1);
});
