/**
 * `admin import ACCOUNT --imap HOST USER` against Postern's own IMAP server (a whole test gateway, IMAPS
 * with its self-signed certificate trusted through NODE_EXTRA_CA_CERTS): the tree is copied with flags and
 * dates; a run broken off between a message's commit and its progress write, then run again from the
 * CLI, leaves exactly the source's messages, none twice; a third run copies nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { importImap } from '../../lib/admin/importImap.ts';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { hashPassword } from '../../lib/core/password.ts';
import { type AdminEmulator, adminEmulator, assertOk, runAdmin } from '../support/adminCli.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { accountMail, SAMPLE, seedAccount } from '../support/mailFiles.ts';
import { testEndpoints } from '../support/storage.ts';

const endpoints: AwsEndpoints = await testEndpoints();
const PASSWORD = 'remote-password-for-tests';
let emulator: AdminEmulator;
// Started at top level: its closing `after` hooks must belong to the file, not to a before hook.
const source: TestGateway = await startTestGateway();
let caFile: string;
let passwordFile: string;

before(async () => {
  emulator = await adminEmulator(endpoints, 'postern-imapimport-');
  await emulator.storage.directory.addDomain('example.com');
  await seedAccount(emulator.storage, 'erin@example.com', []);
  await source.storage.directory.addDomain('remote.example');
  await seedAccount(source.storage, 'src@remote.example', SAMPLE, await hashPassword(PASSWORD));
  const many = Array.from({ length: 40 }, (_, i) => ({
    ...SAMPLE[0],
    subject: `bulk ${i}`,
    date: SAMPLE[0].date + i * 1000,
  }));
  await seedAccount(source.storage, 'bulk@remote.example', many, await hashPassword(PASSWORD));
  await seedAccount(emulator.storage, 'fred@example.com', []);
  caFile = join(emulator.dataDir, 'ca.pem');
  writeFileSync(caFile, source.tls.cert);
  passwordFile = join(emulator.dataDir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
});
after(() => emulator?.close());

const copyArgs = (local = 'erin@example.com', remote = 'src@remote.example') => [
  'import',
  local,
  '--imap',
  'localhost',
  remote,
  '--port',
  String(source.port('imaps')),
  '--password-file',
  passwordFile,
];

describe('admin import --imap', () => {
  it('an interrupted copy, run again, gives each source message exactly once', async () => {
    let copied = 0;
    const interrupted = importImap(
      emulator.storage,
      'erin@example.com',
      {
        host: 'localhost',
        port: source.port('imaps'),
        security: 'tls',
        user: 'src@remote.example',
        password: PASSWORD,
      },
      {
        stateDir: join(emulator.dataDir, 'imports'),
        ca: source.tls.cert,
        afterMessage: () => {
          if (++copied === 2) throw new Error('killed after the second commit, before its progress write');
        },
      },
    );
    await assert.rejects(interrupted, /killed after the second commit/);
    const partial = await accountMail(emulator.storage, 'erin@example.com');
    assert.equal(Object.values(partial).flat().length, 2);

    const env = { NODE_EXTRA_CA_CERTS: caFile };
    const lines = assertOk(await runAdmin(copyArgs(), { dataDir: emulator.dataDir, env }));
    assert.ok(lines.includes('INBOX -> INBOX: 1 added, 1 already there'), lines.join('\n'));
    assert.ok(lines.includes('Sent -> Sent: 1 added, 0 already there'), lines.join('\n'));
    const want = await accountMail(source.storage, 'src@remote.example');
    assert.deepEqual(await accountMail(emulator.storage, 'erin@example.com'), want);

    const again = assertOk(await runAdmin(copyArgs(), { dataDir: emulator.dataDir, env }));
    assert.ok(again.includes('INBOX -> INBOX: 0 added, 0 already there'), again.join('\n'));
    assert.deepEqual(await accountMail(emulator.storage, 'erin@example.com'), want);
  });

  it('a CLI run killed (SIGKILL) mid-copy, run again, gives each source message exactly once', async () => {
    const env = { ...process.env, POSTERN_DATA_DIR: emulator.dataDir, NODE_EXTRA_CA_CERTS: caFile };
    const args = copyArgs('fred@example.com', 'bulk@remote.example');
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/admin.ts', ...args], {
      cwd: resolve(import.meta.dirname, '../..'),
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.once('exit', done));
    const count = async () => Object.values(await accountMail(emulator.storage, 'fred@example.com')).flat().length;
    let atKill = 0;
    for (let i = 0; i < 600 && atKill === 0; i++) {
      await sleep(50);
      atKill = await count();
    }
    child.kill('SIGKILL');
    await exited;
    assert.ok(atKill > 0 && atKill < 40, `killed with ${atKill} of 40 copied`);
    assertOk(await runAdmin(args, { dataDir: emulator.dataDir, env: { NODE_EXTRA_CA_CERTS: caFile } }));
    assert.deepEqual(
      await accountMail(emulator.storage, 'fred@example.com'),
      await accountMail(source.storage, 'bulk@remote.example'),
    );
  });
});
