/**
 * The gateway process itself (lib/gateway/main.ts, configured only by its environment, as the emulator starts
 * it) loses no queued message when killed: a message submitted on 587 while the smarthost is down is deferred
 * in the DynamoDB queue; the process is killed with SIGKILL; the smarthost comes up; a new process delivers the
 * message exactly once from the queue alone, DKIM-signed with the keys under its data directory.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EPHEMERAL_PORTS_ENV } from '../../lib/core/config.ts';
import { hashPassword } from '../../lib/core/password.ts';
import { BUCKET_ENV } from '../../lib/core/schema.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { testTls } from '../support/gateway.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { closedPort, startSink } from '../support/smtpSink.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';
import {
  makeDkimKeys,
  message,
  queueEntries,
  settledEntry,
  statusOf,
  submit,
  waitFor,
} from './outbound-flow-support.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BOB = { address: 'bob@ours.test', password: 'bob-secret' };

const endpoints = await testEndpoints();
const names = await freshNames(endpoints);
const storage = createAwsStorage({ endpoints, names });
after(() => storage.close());
await storage.directory.addDomain('ours.test');
const bob = await storage.directory.addAccount({
  address: BOB.address,
  passwordHash: await hashPassword(BOB.password),
});
await storage.mail.ensureDefaultMailboxes(bob.accountId);

const dataDir = mkdtempSync(join(tmpdir(), 'postern-outbound-restart-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const dkimRecords = await makeDkimKeys(dataDir);
const tls = await testTls();
writeFileSync(join(dataDir, 'cert.pem'), tls.cert);
writeFileSync(join(dataDir, 'key.pem'), tls.key, { mode: 0o600 });
const smarthostPort = await closedPort();

const GATEWAY_ENV = {
  ...process.env,
  POSTERN_INVOKER: 'local',
  POSTERN_TABLE_PREFIX: names.bucket.replace(/-mail$/, ''),
  [BUCKET_ENV]: names.bucket,
  AWS_ENDPOINT_URL_S3: endpoints.s3,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  POSTERN_TLS_CERT_FILE: join(dataDir, 'cert.pem'),
  POSTERN_TLS_KEY_FILE: join(dataDir, 'key.pem'),
  POSTERN_HOSTNAME: 'mx.ours.test',
  ...EPHEMERAL_PORTS_ENV,
  POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
  POSTERN_SMARTHOST: `127.0.0.1:${smarthostPort}`,
  POSTERN_SMARTHOST_TLS: 'none',
  POSTERN_RETRY_SCHEDULE: '1',
  POSTERN_QUEUE_POLL_MS: '200',
  POSTERN_DATA_DIR: dataDir,
  POSTERN_DKIM_KEY_STORE: 'local',
  POSTERN_LOG_LEVEL: 'info',
};

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts lib/gateway/main.ts; resolves with its listeners' ports from the `ready` log line. */
async function startGatewayProcess(): Promise<{ child: ChildProcess; port(name: string): number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'lib/gateway/main.ts')], {
    cwd: ROOT,
    env: GATEWAY_ENV,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line within 60 s')), 60_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; ports?: Record<string, number> };
      if (entry.msg === 'ready' && entry.ports) {
        clearTimeout(timer);
        resolve(entry.ports);
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before ready`)));
  });
  return { child, port: (name) => ports[name] };
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('outbound end to end: the gateway process killed with mail in its queue', () => {
  it('deferred while the smarthost is down, SIGKILL, a new process delivers it once, signed', async () => {
    const first = await startGatewayProcess();
    const to = ['ok@remote.test'];
    assert.deepEqual(await submit(first, BOB, BOB.address, to, message(`Bob <${BOB.address}>`, to, 'survives')), {});
    const deferred = await waitFor('a deferred attempt', async () => {
      const [entry] = await queueEntries({ storage });
      return entry?.recipients[0].status === 'deferred' && entry;
    });
    assert.match(deferred.recipients[0].lastReply ?? '', /^4\d\d /);
    await killed(first.child);

    const sink = await startSink({ port: smarthostPort, idleCloseMs: 1000 });
    after(() => sink.close());
    const second = await startGatewayProcess();
    const entry = await settledEntry({ storage }, 'ok@remote.test');
    assert.equal(statusOf(entry, 'ok@remote.test'), 'delivered');
    assert.ok(entry.recipients[0].attempts >= 2, `${entry.recipients[0].attempts} attempts`);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sink.transactions.length, 1, 'delivered once');
    assert.equal(sink.transactions[0].mailFrom, BOB.address);
    assert.deepEqual(await verifyWithDkimpy(sink.transactions[0].data, dkimRecords), [true, true]);
    await killed(second.child);
  });
});
