/**
 * Starting `deliver` without waiting for it: Lambda's InvocationType Event in AWS (the gateway's kick after an
 * enqueue), a background call in the emulator whose failure is reported, not thrown at the caller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { LambdaInvoker } from '../../lib/storage/aws/lambdaInvoker.ts';

const names = { route: 'fn-route', filter: 'fn-filter', store: 'fn-store', deliver: 'fn-deliver' };

test('LambdaInvoker.invokeEvent asks Lambda for an asynchronous (Event) invocation of the named function', async () => {
  const sent: InvokeCommand['input'][] = [];
  const client = {
    send: async (command: InvokeCommand) => {
      sent.push(command.input);
      return { StatusCode: 202 };
    },
  };
  await new LambdaInvoker(client as unknown as LambdaClient, names).invokeEvent('deliver', { tick: 1 });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].FunctionName, 'fn-deliver');
  assert.equal(sent[0].InvocationType, 'Event');
  assert.deepEqual(JSON.parse(Buffer.from(sent[0].Payload as Uint8Array).toString('utf8')), { tick: 1 });
  const failing = { send: async () => Promise.reject(new Error('throttled')) };
  await assert.rejects(
    new LambdaInvoker(failing as unknown as LambdaClient, names).invokeEvent('deliver', {}),
    /invoke deliver \(event\) failed: throttled/,
  );
});

test('LocalInvoker.invokeEvent returns before the handler ends and reports its failure', async () => {
  let finished = false;
  const failures: string[] = [];
  const slow = async () => {
    await sleep(50);
    finished = true;
    throw new Error('no transport');
  };
  const echo = async (e: unknown) => e;
  const invoker = new LocalInvoker({ route: echo, filter: echo, store: echo, deliver: slow }, (fn, err) =>
    failures.push(`${fn}: ${(err as Error).message}`),
  );
  await invoker.invokeEvent('deliver', {});
  assert.equal(finished, false);
  await sleep(100);
  assert.equal(finished, true);
  assert.deepEqual(failures, ['deliver: no transport']);
});
