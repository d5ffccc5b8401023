/**
 * No loss, exactly once (DESIGN.md rules 1 and 2; RFC 5321 §6.1): every step of an inbound delivery fails in
 * turn (S3 write and read, the route/filter/store functions, the index write for one of three recipients,
 * a store response lost after commit). Each failed transaction answers 4xx (451 4.3.0) and the client's
 * retry of the same message then succeeds: every recipient ends up with exactly one, byte-exact copy.
 *
 * This file runs its own S3 stand-in, so the faults it injects cannot reach other test files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TemporaryError } from '../../lib/core/errors.ts';
import type { AppendInput, InvokedFunction, Invoker, Storage } from '../../lib/core/ports.ts';
import { LOCAL_CREDENTIALS } from '../../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { startS3Server } from '../../local/s3/server.ts';
import { sendMail, simpleMessage, splitDelivered, startMxGateway } from '../protocol/smtp-helpers.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

const s3 = await startS3Server({
  dataDir: mkdtempSync(join(tmpdir(), 'postern-smtp-faults-')),
  credentials: LOCAL_CREDENTIALS,
});
after(() => s3.close());
const endpoints = { ...(await testEndpoints()), s3: s3.endpoint };
const storage = createAwsStorage({ endpoints, names: await freshNames(endpoints) });
after(() => storage.close());

/** Faults the test arms before a transaction. */
const plan = {
  /** Function → invocations to fail before the function runs. */
  before: new Map<InvokedFunction, number>(),
  /** Function → invocations whose response is lost after the function ran. */
  after: new Map<InvokedFunction, number>(),
  /** Account → appends to fail (the index write of that recipient). */
  append: new Map<string, number>(),
  /** Directory reads to fail (the route function's DynamoDB reads). */
  directory: 0,
  clear() {
    this.before.clear();
    this.after.clear();
    this.append.clear();
    this.directory = 0;
    s3.faults.clear();
  },
};

const take = (m: Map<string, number>, key: string): boolean => {
  const n = m.get(key) ?? 0;
  if (n <= 0) return false;
  m.set(key, n - 1);
  return true;
};

function faultyInvoker(inner: Invoker): Invoker {
  return {
    async invoke<Req, Res>(fn: InvokedFunction, payload: Req): Promise<Res> {
      if (take(plan.before, fn)) throw new TemporaryError(`injected: ${fn} failed`);
      const result = await inner.invoke<Req, Res>(fn, payload);
      if (take(plan.after, fn)) throw new TemporaryError(`injected: ${fn} response lost`);
      return result;
    },
  };
}

function faultyStorage(inner: Storage): Storage {
  const mail = new Proxy(inner.mail, {
    get(target, prop) {
      if (prop === 'append') {
        return async (input: AppendInput) => {
          if (take(plan.append, input.accountId))
            throw new TemporaryError('injected: DynamoDB TransactWriteItems failed');
          return target.append(input);
        };
      }
      if (prop === 'appendMany') {
        // a group commit is one transaction: a fault for any of its accounts fails all of it
        return async (inputs: AppendInput[]) => {
          if (inputs.some((input) => take(plan.append, input.accountId)))
            throw new TemporaryError('injected: DynamoDB TransactWriteItems failed');
          return target.appendMany(inputs);
        };
      }
      const v = (target as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const directory = new Proxy(inner.directory, {
    get(target, prop) {
      const v = (target as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        if (plan.directory > 0) {
          plan.directory -= 1;
          throw new TemporaryError('injected: DynamoDB GetItem failed');
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { ...inner, mail, directory };
}

const tg = await startMxGateway({
  storage,
  env: { POSTERN_SMTP_STORE_ATTEMPTS: '2', POSTERN_SMTP_RETRY_DELAY_MS: '10', POSTERN_SMTP_ROUTE_CACHE_MS: '0' },
  wrapHandlerStorage: faultyStorage,
  wrapInvoker: faultyInvoker,
});
const port = tg.port('smtp');
const RCPTS = ['r1@ours.test', 'r2@ours.test', 'r3@ours.test'];
for (const r of RCPTS) await tg.addAccount(r, 'pw');

async function assertExactlyOnce(marker: string, text: string) {
  for (const who of RCPTS) {
    const copies = (await tg.messages(who)).filter((m) => m.bytes.includes(marker));
    assert.equal(copies.length, 1, `${who} has ${copies.length} copies of ${marker}`);
    assert.equal(splitDelivered(copies[0].bytes, copies[0].meta).text.toString(), text);
  }
}

async function assertNone(marker: string) {
  for (const who of RCPTS)
    assert.equal((await tg.messages(who)).filter((m) => m.bytes.includes(marker)).length, 0, who);
}

/** Arms a fault, sends (expects a 4xx), clears, sends the same message again (expects 250). */
async function failThenRetry(
  name: string,
  arm: () => void,
  opts: { size?: number; visibleAfterFailure?: boolean } = {},
) {
  const body = opts.size ? `${'0123456789abcdef'.repeat(4)}\r\n`.repeat(Math.ceil(opts.size / 66)) : 'body\r\n';
  const text = simpleMessage({ subject: `fault ${name}`, body });
  plan.clear();
  arm();
  let first: { code: number; text: string };
  try {
    first = await sendMail(port, { from: 'alice@sender.test', to: RCPTS, data: text });
  } catch (err) {
    // a refusal at RCPT (route failure) makes sendMail throw: that is the 4xx we want to see
    first = { code: Number(/expected 250, got (\d{3})/.exec(String(err))?.[1] ?? 0), text: String(err) };
  }
  assert.ok(first.code >= 400 && first.code < 500, `${name}: first attempt answered ${first.code} ${first.text}`);
  if (first.code === 451) assert.match(first.text, /4\.3\.0/);
  if (!opts.visibleAfterFailure) await assertNone(`Subject: fault ${name}`);
  plan.clear();
  const second = await sendMail(port, { from: 'alice@sender.test', to: RCPTS, data: text });
  assert.equal(second.code, 250, `${name}: retry answered ${second.code} ${second.text}`);
  await assertExactlyOnce(`Subject: fault ${name}`, text);
}

describe('fault injection: every step fails in turn, the retry delivers exactly once', () => {
  test('S3 PutObject fails (the body never reaches S3)', () =>
    failThenRetry('s3-put', () => s3.faults.failNext('PutObject', 3, 503)));

  // two parts upload at once and the SDK tries each three times: 10 faults outlast both
  test('S3 UploadPart fails in the middle of a multipart upload (6 MB message)', () =>
    failThenRetry('s3-part', () => s3.faults.failNext('UploadPart', 10, 503), { size: 6 * 1024 * 1024 }));

  test('S3 GetObject fails when the filter reads the message', () =>
    failThenRetry('s3-get', () => s3.faults.failNext('GetObject', 3, 503)));

  test('the route function fails at RCPT TO (451 4.3.0)', () =>
    failThenRetry('route', () => plan.before.set('route', 1)));

  test('DynamoDB fails under the route function', () => failThenRetry('route-db', () => (plan.directory = 1)));

  test('the filter function fails', () => failThenRetry('filter', () => plan.before.set('filter', 1)));

  test('the store function fails on every attempt', () => failThenRetry('store', () => plan.before.set('store', 2)));

  test('the index write fails for the second of three recipients on every attempt (partial delivery)', async () => {
    const r2 = tg.accounts.get('r2@ours.test')!.accountId;
    await failThenRetry('append-r2', () => plan.append.set(r2, 2), { visibleAfterFailure: true });
  });

  test('the index write fails once: the gateway retries the store with the same key and answers 250', async () => {
    const r3 = tg.accounts.get('r3@ours.test')!.accountId;
    plan.clear();
    plan.append.set(r3, 1);
    const text = simpleMessage({ subject: 'fault append-once' });
    const r = await sendMail(port, { from: 'alice@sender.test', to: RCPTS, data: text });
    assert.equal(r.code, 250);
    await assertExactlyOnce('Subject: fault append-once', text);
  });

  test('the store response is lost after the commit: retried, no second copy', async () => {
    plan.clear();
    plan.after.set('store', 1);
    const text = simpleMessage({ subject: 'fault lost-response' });
    const r = await sendMail(port, { from: 'alice@sender.test', to: RCPTS, data: text });
    assert.equal(r.code, 250);
    await assertExactlyOnce('Subject: fault lost-response', text);
  });

  test('every store response is lost: 451, and the client retry still lands once', () =>
    failThenRetry('lost-all', () => plan.after.set('store', 2), { visibleAfterFailure: true }));

  test('a message resent after a 250 (the client missed the reply) lands once (DESIGN.md rule 2)', async () => {
    plan.clear();
    const text = simpleMessage({ subject: 'fault resent' });
    for (let i = 0; i < 3; i++)
      assert.equal((await sendMail(port, { from: 'alice@sender.test', to: RCPTS, data: text })).code, 250);
    await assertExactlyOnce('Subject: fault resent', text);
  });
});
