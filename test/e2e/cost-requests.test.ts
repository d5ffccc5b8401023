/**
 * The cost model's request counts (lib/cost/requests.ts) against what the code does. One gateway in this
 * process, its storage on the real SDK clients pointed at counting proxies in front of DynamoDB Local and the
 * S3 stand-in (bench/support/awsRequestCounter.ts), its invoker and its transport counted at their ports and
 * its log lines measured at the logger's sink. Python's smtplib delivers one message on port 25 and submits one
 * on 587, imaplib holds a session in IDLE; each operation's requests must be the model's, one for one.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { countingProxy, countsSince } from '../../bench/support/awsRequestCounter.ts';
import { createLogger } from '../../lib/core/log.ts';
import type { Invoker } from '../../lib/core/ports.ts';
import {
  IDLE_POLL,
  INBOUND_DELIVERY,
  modelCounts,
  type Operation,
  OUTBOUND_MESSAGE,
  STORED_MESSAGE,
} from '../../lib/cost/requests.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { dynamoCapacity, itemSize, type MeasuredCapacity } from '../support/capacity.ts';
import { startTestGateway } from '../support/gateway.ts';
import { startSink } from '../support/smtpSink.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';
import { makeDkimKeys, message, settledEntry, submit, waitFor } from './outbound-flow-support.ts';

const run = promisify(execFile);
const BOB = { address: 'bob@ours.test', password: 'bob-secret' };

const endpoints = await testEndpoints();
const names = await freshNames(endpoints);
const prefix = names.tables.directory.slice(0, names.tables.directory.indexOf('directory'));
const capacity: MeasuredCapacity = {};
/** Sizes of the items transactions put in the messages table (the index item, the idempotency record). */
const messageItems: number[] = [];
const dynamo = await countingProxy('dynamodb', endpoints.dynamodb!, prefix, (op, body) => {
  dynamoCapacity(capacity, op, body);
  if (op.startsWith('TransactWriteItems')) {
    for (const t of JSON.parse(body).TransactItems) {
      if (t.Put?.TableName === names.tables.messages) messageItems.push(itemSize(t.Put.Item));
    }
  }
});
const s3 = await countingProxy('s3', endpoints.s3!);
after(() => Promise.all([dynamo.close(), s3.close()]));
const storage = createAwsStorage({ endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint }, names });
// for the test's own waiting: not counted
const uncounted = createAwsStorage({ endpoints, names });
after(() => uncounted.close());

const invocations: Record<string, number> = {};
function countingInvoker(inner: Invoker): Invoker {
  const count = (fn: string) => {
    invocations[fn] = (invocations[fn] ?? 0) + 1;
  };
  const invokeEvent = inner.invokeEvent?.bind(inner);
  return {
    invoke(fn, payload) {
      count(fn);
      return inner.invoke(fn, payload);
    },
    invokeEvent:
      invokeEvent &&
      ((fn, payload) => {
        count(fn);
        return invokeEvent(fn, payload);
      }),
  };
}
let logBytes = 0;
const log = createLogger({ level: 'info', sink: (line) => (logBytes += Buffer.byteLength(line) + 1) });

const dataDir = mkdtempSync(join(tmpdir(), 'postern-cost-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
await makeDkimKeys(dataDir);
const sink = await startSink();
after(() => sink.close());
const tg = await startTestGateway({
  storage,
  deliver: true,
  wrapInvoker: countingInvoker,
  log,
  env: {
    POSTERN_DATA_DIR: dataDir,
    POSTERN_DKIM_KEY_STORE: 'local',
    POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
    POSTERN_SMARTHOST: `127.0.0.1:${sink.port}`,
    POSTERN_SMARTHOST_TLS: 'none',
    // no timer: a pass runs only because the submission kicks it, as in AWS between two sweeps
    POSTERN_QUEUE_POLL_MS: '3600000',
    POSTERN_AUTH_FAILURE_DELAY_MS: '0',
    POSTERN_IMAP_IDLE_POLL_MS: '50',
  },
});
await tg.addAccount(BOB.address, BOB.password);

interface Measured {
  readonly dynamodb: Record<string, number>;
  readonly s3: Record<string, number>;
  readonly lambda: Record<string, number>;
  readonly capacity: MeasuredCapacity;
  readonly logBytes: number;
}

/** What `work` made: requests, invocations, capacity and log bytes since it started. */
async function measure(work: () => Promise<void>): Promise<Measured> {
  const before = { dynamodb: dynamo.counts(), s3: s3.counts(), lambda: { ...invocations }, logBytes };
  for (const key of Object.keys(capacity)) delete capacity[key];
  await work();
  return {
    dynamodb: countsSince(dynamo.counts(), before.dynamodb),
    s3: countsSince(s3.counts(), before.s3),
    lambda: countsSince(invocations, before.lambda),
    capacity: structuredClone(capacity),
    logBytes: logBytes - before.logBytes,
  };
}

function assertModel(model: Operation, measured: Measured, times = 1): void {
  const expected = modelCounts(model, times);
  assert.deepEqual(measured.dynamodb, expected.dynamodb, 'DynamoDB requests');
  assert.deepEqual(measured.s3, expected.s3, 'S3 requests');
  assert.deepEqual(measured.lambda, expected.lambda, 'Lambda invocations');
  assert.deepEqual(measured.capacity, expected.capacity, 'write and read units');
}

const IDLE = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('bob@ours.test', 'bob-secret')
m.select('INBOX')
tag = m._new_tag().decode()
m.send(f'{tag} IDLE\\r\\n'.encode())
print(m.readline().decode().strip(), flush=True)
sys.stdin.readline()
m.send(b'DONE\\r\\n')
while True:
    line = m.readline().decode()
    if line.startswith(tag):
        break
print(line.strip(), flush=True)
sys.stdin.readline()
m.logout()
`;

/** imaplib in IDLE on the plain IMAP port: `send` ends IDLE (then the session), `lines` are what it prints. */
function imapIdle(port: number) {
  const child = spawn('/usr/bin/python3', ['-c', IDLE, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const reader = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    lines: { next: async () => String((await reader.next()).value) },
    send: () => child.stdin.write('\n'),
    done: new Promise((resolve) => child.once('exit', resolve)),
    kill: () => child.kill(),
  };
}

const INBOUND = `
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.sendmail('alice@sender.test', ['bob@ours.test'], sys.stdin.buffer.read())
s.quit()
`;

describe('cost model: requests per operation, measured through the ports', () => {
  it('one inbound delivery (port 25 → route, filter, store → INBOX)', async () => {
    const measured = await measure(async () => {
      const child = run('/usr/bin/python3', ['-c', INBOUND, String(tg.port('smtp'))], { timeout: 60_000 });
      child.child.stdin?.end(message('Alice <alice@sender.test>', [BOB.address], 'inbound for the cost model'));
      await child;
    });
    assertModel(INBOUND_DELIVERY, measured);
    assert.ok(Math.abs(measured.logBytes - INBOUND_DELIVERY.logBytes) < 100, `${measured.logBytes} log bytes`);
    const written = messageItems.reduce((n, item) => n + item, 0);
    assert.ok(written > 0 && written <= STORED_MESSAGE.itemBytes, `${written} bytes of message items`);
  });

  it('one outbound message (587 → queue → kicked deliver → smarthost → done)', async () => {
    const measured = await measure(async () => {
      const refused = await submit(
        tg,
        BOB,
        BOB.address,
        ['ok@remote.test'],
        message(BOB.address, ['ok@remote.test'], 'out'),
      );
      assert.deepEqual(refused, {});
      await waitFor('the sink to get it', async () => sink.transactions.length > 0);
      await settledEntry({ storage: uncounted }, 'ok@remote.test');
    });
    assertModel(OUTBOUND_MESSAGE, measured);
    assert.ok(Math.abs(measured.logBytes - OUTBOUND_MESSAGE.logBytes) < 100, `${measured.logBytes} log bytes`);
  });

  it("an IMAP session in IDLE: each backstop poll makes the model's requests", async () => {
    const { lines, send, done, kill } = imapIdle(tg.port('imap'));
    after(kill);
    assert.match(await lines.next(), /^\+ /);
    const measured = await measure(async () => {
      await waitFor('a poll', async () => Object.keys(countsSince(dynamo.counts(), {})).length > 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      send();
      assert.match(await lines.next(), /OK/);
    });
    send();
    await done;
    const polls = measured.dynamodb[IDLE_POLL.dynamodb[0].request] ?? 0;
    assert.ok(polls >= 3, `${polls} polls`);
    assertModel(IDLE_POLL, measured, polls);
    assert.equal(measured.logBytes, 0);
  });
});
