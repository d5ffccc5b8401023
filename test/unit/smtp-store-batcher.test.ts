/** The gateway's store batcher: messages for the same accounts that arrive together share one invocation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionName, Invoker } from '../../lib/core/ports.ts';
import { StoreBatcher } from '../../lib/delivery/storeBatcher.ts';
import type { StoreBatchRequest, StoreBatchResult, StoreRequest } from '../../lib/pipeline/contracts.ts';

function request(id: string, accounts: string[]): StoreRequest {
  return {
    messageId: id,
    idempotencyKey: id,
    blobKey: `messages/${id}`,
    blobSize: 10,
    internalDate: 0,
    deliveries: accounts.map((accountId) => ({ accountId, headerPrefix: '' })),
  };
}

function recordingInvoker(fail?: (batch: StoreBatchRequest) => boolean) {
  const calls: string[][] = [];
  const invoker: Invoker = {
    async invoke<Req, Res>(_fn: FunctionName, payload: Req): Promise<Res> {
      const batch = payload as StoreBatchRequest;
      calls.push(batch.requests.map((r) => r.messageId));
      await sleep(20);
      if (fail?.(batch)) throw new Error('store failed');
      const result: StoreBatchResult = {
        results: batch.requests.map((r) => ({
          delivered: [
            { accountId: r.deliveries[0].accountId, mailbox: 'INBOX', uid: 1, duplicate: false, blobKey: r.blobKey },
          ],
          failed: [],
        })),
      };
      return result as Res;
    },
  };
  return { invoker, calls };
}

test('alone, a message goes out at once; what queues meanwhile goes in the next invocation, in order', async () => {
  const { invoker, calls } = recordingInvoker();
  const batcher = new StoreBatcher(invoker);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.store(request(`m${i}`, ['alice']))));
  assert.deepEqual(calls, [['m0'], ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']]);
  assert.deepEqual(
    results.map((r) => r.delivered[0].blobKey),
    Array.from({ length: 10 }, (_, i) => `messages/m${i}`),
  );
});

test('different accounts do not wait for each other', async () => {
  const { invoker, calls } = recordingInvoker();
  const batcher = new StoreBatcher(invoker);
  await Promise.all([batcher.store(request('a1', ['alice'])), batcher.store(request('b1', ['bob']))]);
  assert.deepEqual(calls.sort(), [['a1'], ['b1']]);
});

test('a failed invocation fails exactly the requests it carried; the queue keeps going', async () => {
  const { invoker, calls } = recordingInvoker((batch) => batch.requests.some((r) => r.messageId === 'm0'));
  const batcher = new StoreBatcher(invoker);
  const outcomes = await Promise.allSettled(['m0', 'm1', 'm2'].map((id) => batcher.store(request(id, ['alice']))));
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'fulfilled', 'fulfilled'],
  );
  assert.deepEqual(calls, [['m0'], ['m1', 'm2']]);
});
