/**
 * OutboundQueue.countPending on the DynamoDB adapter (the QueueDepth metric): one Select COUNT query of the
 * byState index's PENDING partition, so finished entries do not count, nor does a claim hide an entry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryInput, queueFixture } from './outbound-queue-support.ts';

test('countPending counts entries with recipients pending, claimed or not, and not finished ones', async () => {
  const f = await queueFixture();
  assert.equal(await f.queue.countPending(), 0);
  const a = entryInput('a.example', ['x', 'y']);
  const b = entryInput('b.example', ['z']);
  await f.queue.enqueue([a, b], `k-${a.id}`);
  assert.equal(await f.queue.countPending(), 2);
  assert.ok(await f.queue.claim(a.id, 'r', f.now() + 60_000));
  assert.equal(await f.queue.countPending(), 2, 'a claimed entry is still pending');
  const delivered = (address: string) => ({ address, result: 'delivered' as const, reply: '250 ok' });
  const at = f.now();
  assert.ok(
    await f.queue.complete(a.id, 'r', {
      at,
      nextAttemptAt: at,
      outcomes: [delivered('x@a.example'), delivered('y@a.example')],
    }),
  );
  assert.equal(await f.queue.countPending(), 1, 'a finished entry is not counted');
});
