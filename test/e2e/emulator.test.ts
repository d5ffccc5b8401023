/**
 * `npm start` as a person runs it: the emulator prints `ready`, serves its listeners, keeps accounts and mail
 * across a restart, stops every child on SIGINT, and explains a missing Java instead of a stack trace.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PORT_ENV } from '../../lib/core/config.ts';
import { hashPassword } from '../../lib/core/password.ts';
import { namesWithPrefix } from '../../lib/core/schema.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { freePort } from '../../local/ports.ts';
import { readEmulatorState } from '../../local/state.ts';
import { type EmulatorProcess, killEmulatorGroups, startEmulatorProcess } from '../support/emulatorProcess.ts';
import { testEndpoints } from '../support/storage.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'postern-emulator-'));
const children = new Set<ChildProcess>();
after(() => {
  // A failed assertion must not leave an emulator, its gateway or its DynamoDB Local running (each emulator
  // leads a process group of its own: killing the group reaches its children too).
  killEmulatorGroups(children);
  rmSync(dataDir, { recursive: true, force: true });
});

const PORT_VARS = Object.values(PORT_ENV);

async function portEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of PORT_VARS) env[name] = String(await freePort());
  return env;
}

type Running = EmulatorProcess;

/** Generous: the first start compiles the DynamoDB launcher, and CI runs three test files at once on 2 cores. */
const READY_WITHIN_MS = 90_000;

const startEmulator = (env: Record<string, string>) =>
  startEmulatorProcess({
    env: { POSTERN_DATA_DIR: dataDir, ...env },
    readyText: 'ready',
    withinMs: READY_WITHIN_MS,
    children,
  });

async function stopEmulator(running: Running): Promise<number | null> {
  if (running.child.exitCode !== null) return running.child.exitCode; // it died already: nothing to wait for
  const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
  running.child.kill('SIGINT');
  return exited;
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.once('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Paths under the data dir (itself included) that anyone but their owner may read, write or enter, with their
 * modes. The S3 stand-in's own files (s3/) are left to its tests: the data dir's 0700 already shuts them in.
 */
function notPrivate(dataDir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    if (path === join(dataDir, 's3')) return;
    const stat = statSync(path);
    if (stat.mode & 0o077) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dataDir);
  return found;
}

test('npm start: ready, listeners answer, data survives a restart, SIGINT stops every child', async (t) => {
  const env = await portEnv();
  const first = await startEmulator(env);
  const output = first.output();
  assert.match(output, /Demo account\s+demo@postern\.test\s+password: \S+/);
  assert.match(await greeting(Number(env.POSTERN_POP3_PORT)), /^\+OK/);
  assert.match(await greeting(Number(env.POSTERN_IMAP_PORT)), /^\* OK/);

  // Write an account and a message through the endpoints the emulator publishes, as the admin CLI does.
  const state = readEmulatorState(dataDir)!;
  assert.ok(state, 'emulator.json names the running emulator');
  const storage = createAwsStorage({ endpoints: state.endpoints, names: namesWithPrefix(state.tablePrefix) });
  const account = await storage.directory.addAccount({
    address: 'keep@postern.test',
    passwordHash: await hashPassword('pw'),
  });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  const inbox = (await storage.mail.getMailbox(account.accountId, 'INBOX'))!;
  const body = Buffer.from('Subject: survives\r\n\r\nstill here\r\n');
  await storage.blobs.put('messages/survivor', body);
  await storage.mail.append({
    accountId: account.accountId,
    mailboxId: inbox.mailboxId,
    blobKey: 'messages/survivor',
    blobSize: body.length,
  });
  storage.close();

  const gatewayAndDb = readEmulatorState(dataDir)!;
  // The data dir holds password hashes, the TLS key and the demo password: owner-only, whatever the umask.
  assert.deepEqual(notPrivate(dataDir), [], 'data dir private after the first start');
  assert.equal(await stopEmulator(first), 0);
  assert.equal(readEmulatorState(dataDir), undefined, 'state file removed on stop');
  assert.equal(alive(gatewayAndDb.pid), false);

  // A data dir left world-readable (an older version, a copy) is made private again at start.
  for (const dir of ['.', 'tls', 'dynamodb']) chmodSync(join(dataDir, dir), 0o755);
  for (const file of ['demo-account.json', 'tls/key.pem', 'dynamodb/shared-local-instance.db']) {
    chmodSync(join(dataDir, file), 0o644);
  }
  const second = await startEmulator(env);
  assert.deepEqual(notPrivate(dataDir), [], 'data dir repaired at the restart');
  t.diagnostic(`emulator start: first ${first.startMs} ms, restart ${second.startMs} ms`);
  const demoPassword = /password: (\S+)/.exec(output)![1];
  assert.match(second.output(), new RegExp(`password: ${demoPassword}`), 'the demo password is stable');
  const again = readEmulatorState(dataDir)!;
  const after = createAwsStorage({ endpoints: again.endpoints, names: namesWithPrefix(again.tablePrefix) });
  const kept = (await after.directory.getAccountByAddress('keep@postern.test'))!;
  assert.equal(kept.accountId, account.accountId);
  const messages = await after.mail.listMessages(inbox);
  assert.equal(messages.length, 1);
  const stored = await after.blobs.get(messages[0].blobKey);
  const chunks: Buffer[] = [];
  for await (const c of stored) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), body.toString());
  after.close();
  assert.equal(await stopEmulator(second), 0);
  assert.ok(!readFileSync(join(dataDir, 'demo-account.json'), 'utf8').includes('scrypt'));
});

test('without a Java runtime, npm start says what to install (no stack trace)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PATH: '/nonexistent',
      JAVA_HOME: '',
      POSTERN_DATA_DIR: join(dataDir, 'nojava'),
      AWS_ENDPOINT_URL_DYNAMODB: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(out, /Java 17\+ runtime/);
  assert.match(out, /apt-get install -y openjdk-17-jre-headless/);
  assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
});

test('AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB replace the embedded services', async () => {
  const endpoints = await testEndpoints();
  const dir = mkdtempSync(join(tmpdir(), 'postern-emulator-ext-'));
  const running = await startEmulator({
    ...(await portEnv()),
    POSTERN_DATA_DIR: dir,
    AWS_ENDPOINT_URL_S3: endpoints.s3!,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb!,
  });
  try {
    const state = readEmulatorState(dir)!;
    assert.deepEqual([state.endpoints.s3, state.endpoints.dynamodb], [endpoints.s3, endpoints.dynamodb]);
    // The demo account was written to the external DynamoDB.
    const storage = createAwsStorage({ endpoints, names: namesWithPrefix(state.tablePrefix) });
    assert.ok(await storage.directory.getAccountByAddress('demo@postern.test'));
    storage.close();
    assert.doesNotMatch(running.output(), /DynamoDB Local exited/);
  } finally {
    assert.equal(await stopEmulator(running), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The emulator's gateway child: the process that runs lib/gateway/main.ts (or its bundle, POSTERN_GATEWAY_BUNDLE=1). */
function gatewayPidOf(emulatorPid: number): number | undefined {
  const children = readFileSync(`/proc/${emulatorPid}/task/${emulatorPid}/children`, 'utf8').trim().split(/\s+/);
  return children.map(Number).find((pid) => {
    try {
      return /lib\/gateway\/main\.ts|gateway\/gateway\.mjs/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('when the gateway dies, the emulator starts it again (as ECS would) and keeps serving', async () => {
  const endpoints = await testEndpoints();
  const dir = mkdtempSync(join(tmpdir(), 'postern-emulator-restart-'));
  const env = await portEnv();
  const running = await startEmulator({
    ...env,
    POSTERN_DATA_DIR: dir,
    AWS_ENDPOINT_URL_S3: endpoints.s3!,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb!,
  });
  try {
    const smtp = Number(env.POSTERN_SMTP_PORT);
    assert.match(await greeting(smtp), /^220 /);
    const first = gatewayPidOf(running.child.pid!);
    assert.ok(first, 'the gateway runs as a child of the emulator');
    process.kill(first, 'SIGKILL');
    const second = await waitFor('a new gateway process', async () => {
      const pid = gatewayPidOf(running.child.pid!);
      return pid && pid !== first ? pid : undefined;
    });
    assert.notEqual(second, first);
    assert.match(await waitFor('SMTP to answer again', () => greeting(smtp)), /^220 /);
    assert.match(running.output(), /the gateway exited \(SIGKILL\); starting it again/);
    assert.equal(running.child.exitCode, null, 'the emulator itself kept running');
  } finally {
    assert.equal(await stopEmulator(running), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
