/**
 * The queue holds its blob: an entry's reference (beside the mailboxes' counts) keeps the release after an
 * expunge and the blob sweep from deleting a message the queue still has to send, and goes with the entry.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeDynamoClient } from '../../lib/storage/aws/clients.ts';
import { DynamoMailStore } from '../../lib/storage/aws/mailStore.ts';
import { entryInput, type QueueFixture, queueFixture } from './outbound-queue-support.ts';

const HOURS = 3_600_000;
let f: QueueFixture;
let mail: DynamoMailStore;
before(async () => {
  f = await queueFixture();
  const db = makeDynamoClient(f.endpoints);
  after(() => db.destroy());
  mail = new DynamoMailStore(db, f.names, { blobs: f.storage.blobs, now: f.now });
});

const sweep = (keys: readonly string[]) => mail.sweepBlobs(keys.map((key) => ({ key, lastModified: 0 })));

test('a pending entry keeps its blob through the sweep; finishing or removing the entry lets it go', async () => {
  const sent = entryInput('a.example', ['x']);
  const dropped = entryInput('b.example', ['y']);
  for (const e of [sent, dropped]) await f.storage.blobs.put(e.blobKey, Buffer.from('Subject: hi\r\n\r\nbody\r\n'));
  await f.queue.enqueue([sent], `blob-${sent.id}`);
  await f.queue.enqueue([dropped], `blob-${dropped.id}`);
  f.advance(2 * HOURS); // past the mail store's grace for unreferenced blobs
  assert.deepEqual(await sweep([sent.blobKey, dropped.blobKey]), { deleted: [], kept: 2 });

  assert.ok(await f.queue.claim(sent.id, 'r', f.now() + 60_000));
  const at = f.now();
  const outcome = { address: 'x@a.example', result: 'deferred' as const, reply: '451 4.4.1 later' };
  assert.ok(await f.queue.complete(sent.id, 'r', { at, nextAttemptAt: at, outcomes: [outcome] }));
  assert.deepEqual(await sweep([sent.blobKey]), { deleted: [], kept: 1 }, 'deferred: still needed');
  assert.ok(await f.queue.claim(sent.id, 'r', f.now() + 60_000));
  const done = { ...outcome, result: 'delivered' as const, reply: '250 2.0.0 Ok' };
  assert.ok(await f.queue.complete(sent.id, 'r', { at: f.now(), nextAttemptAt: f.now(), outcomes: [done] }));
  assert.deepEqual(await sweep([sent.blobKey]), { deleted: [sent.blobKey], kept: 0 });

  assert.equal(await f.queue.remove(dropped.id), true);
  assert.equal(await f.queue.remove(dropped.id), false, 'a second remove finds nothing');
  assert.deepEqual(await sweep([dropped.blobKey]), { deleted: [dropped.blobKey], kept: 0 });
});
