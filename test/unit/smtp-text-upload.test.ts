/**
 * The memory budget for message text in flight: many large messages at once never hold more than the
 * process-wide budget in the upload path, a transaction that cannot get memory in time answers 451 4.3.1
 * (RFC 3463 §3.4, "mail system full") and leaves nothing behind, and the budget is always given back.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ByteBudget } from '../../lib/core/byteBudget.ts';
import type { BlobStore } from '../../lib/core/ports.ts';
import { DataPolicy } from '../../lib/smtp/dataStream.ts';
import { uploadText } from '../../lib/smtp/textUpload.ts';

const MiB = 1024 * 1024;

/**
 * A blob store that buffers up to putMemoryBytes of a body before it "sends" it (as lib-storage buffers its
 * parts), slowly, as S3 under load would. `held` is what all puts together hold in memory at this moment.
 */
function bufferingBlobStore(): BlobStore & { stored: Map<string, number>; held: () => number } {
  const stored = new Map<string, number>();
  let held = 0;
  const putMemoryBytes = 3 * MiB;
  return {
    putMemoryBytes,
    stored,
    held: () => held,
    async put(key, body) {
      let size = 0;
      let buffered = 0;
      const flush = async () => {
        await sleep(2);
        held -= buffered;
        buffered = 0;
      };
      for await (const chunk of body as Readable) {
        const n = (chunk as Buffer).length;
        size += n;
        buffered += n;
        held += n;
        if (buffered >= putMemoryBytes) await flush();
      }
      await flush();
      stored.set(key, size);
      return { size };
    },
    get: () => Promise.reject(new Error('not used')),
    list: () => {
      throw new Error('not used');
    },
    head: async (key) => stored.get(key),
    async delete(key) {
      stored.delete(key);
    },
  };
}

/** `size` bytes of valid message text in 64 KiB chunks, CRLF lines. */
function messageText(size: number): Readable {
  const line = Buffer.from(`${'x'.repeat(998)}\r\n`);
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => line)); // 64,000 bytes
  const header = Buffer.from('Subject: big\r\n\r\n');
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) {
        sent += header.length;
        this.push(header);
      } else if (sent >= size) this.push(null);
      else {
        sent += chunk.length;
        this.push(chunk);
      }
    },
  });
}

const policy = () =>
  new DataPolicy({ maxSize: 64 * MiB, maxLineLength: 64 * 1024, maxReceived: 100, authservId: 'mx.test' });

describe('message text in flight: the process-wide memory budget', () => {
  it('20 concurrent 12 MB messages never hold more than the budget, and all are stored', async () => {
    const blobs = bufferingBlobStore();
    const budget = new ByteBudget(8 * MiB);
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, blobs.held())), 1);
    const deps = { blobs, budget, perMessageBytes: blobs.putMemoryBytes, budgetWaitMs: 120_000 };
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uploadText(deps, messageText(12 * MiB), `m${i}`, 'Received: test\r\n', policy()),
      ),
    );
    clearInterval(watch);
    assert.ok(outcomes.every((o) => o.kind === 'stored'));
    assert.equal(blobs.stored.size, 20);
    // without the budget, 20 uploads would hold 20 x 3 MiB at once
    assert.ok(peak <= budget.capacity, `peak ${peak} held within ${budget.capacity}`);
    assert.equal(budget.inUse, 0, 'every reservation is given back');
  });

  it('answers busy when memory does not come in time, and leaves no object behind', async () => {
    const blobs = bufferingBlobStore();
    const budget = new ByteBudget(4 * MiB);
    assert.equal(await budget.acquire(4 * MiB, 10), true); // someone else holds all of it
    const deps = { blobs, budget, perMessageBytes: blobs.putMemoryBytes, budgetWaitMs: 50 };
    const outcome = await uploadText(deps, messageText(1 * MiB), 'starved', 'Received: test\r\n', policy());
    assert.equal(outcome.kind, 'busy');
    assert.equal(blobs.stored.has('starved'), false);
    budget.release(4 * MiB);
    assert.equal(budget.inUse, 0);
  });

  it('serves waiters first come, first served, and a waiter that gives up unblocks the ones behind it', async () => {
    const budget = new ByteBudget(10);
    assert.equal(await budget.acquire(6, 10), true);
    const big = budget.acquire(8, 30); // cannot fit until the 6 go; gives up first
    const small = budget.acquire(4, 1000); // fits now, but waits its turn behind big
    let smallDone = false;
    void small.then(() => (smallDone = true));
    await sleep(5);
    assert.equal(smallDone, false, 'no overtaking while big waits');
    assert.equal(await big, false);
    assert.equal(await small, true);
    assert.equal(budget.inUse, 10);
  });
});
