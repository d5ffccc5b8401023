/**
 * Both DKIM key stores through the same contract: the emulator's files (modes and atomic replacement checked
 * on disk) and Secrets Manager through the real AWS SDK client against a local stand-in of its JSON protocol
 * (test/support/secretsManager.ts: no signature checks, no versions), which shows the requests it builds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/log.ts';
import type { DkimPrivateKey } from '../../lib/core/outbound.ts';
import { type DkimKeyAdmin, generateKeySet } from '../../lib/outbound/dkimKeys.ts';
import { localDkimKeyStore } from '../../lib/outbound/dkimLocalKeys.ts';
import { makeSecretsManagerClient } from '../../lib/storage/aws/clients.ts';
import { secretsManagerDkimKeyStore } from '../../lib/storage/aws/dkimKeys.ts';
import { openDkimKeyStore, openDkimSigner } from '../../lib/storage/dkimKeyStore.ts';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secretsManager.ts';

const T0 = Date.UTC(2026, 11, 2, 13, 0);
const FIRST = generateKeySet('example.org', [], T0);
const SECOND = generateKeySet('example.org', FIRST, T0 + 60_000);

function contract(name: string, make: () => DkimKeyAdmin) {
  describe(`DKIM key store: ${name}`, () => {
    it('has no keys for an unknown domain', async () => {
      const store = make();
      assert.deepEqual(await store.list('nothing.example'), []);
      assert.deepEqual(await store.signingKeys('nothing.example'), []);
      assert.equal(await store.removeKey('nothing.example', 'p202612r'), false);
      await store.removeDomain('nothing.example');
    });

    it('signs with the newest key of each algorithm; lists all, newest first, without private parts', async () => {
      const store = make();
      for (const key of [...FIRST, ...SECOND]) await store.add(key);
      const signing = await store.signingKeys('Example.ORG');
      assert.deepEqual(
        signing.map((k) => k.selector),
        ['p202612r02', 'p202612e02'],
      );
      assert.deepEqual(
        signing.map((k) => k.privateKeyPem),
        SECOND.map((k) => k.privateKeyPem),
      );
      const listed = await store.list('example.org');
      assert.deepEqual(
        listed.map((k) => k.selector),
        ['p202612r02', 'p202612e02', 'p202612r', 'p202612e'],
      );
      for (const k of listed) assert.ok(!('privateKeyPem' in k), `${k.selector} listed with its private key`);
      await assert.rejects(store.add(FIRST[0]), /already exists/);
    });

    it('retires one key, and removes a domain with all its keys', async () => {
      const store = make();
      assert.equal(await store.removeKey('example.org', 'p202612r'), true);
      assert.deepEqual(
        (await store.list('example.org')).map((k) => k.selector),
        ['p202612r02', 'p202612e02', 'p202612e'],
      );
      await store.removeDomain('example.org');
      assert.deepEqual(await store.list('example.org'), []);
      await store.add(FIRST[0]); // and the domain can start again
      assert.equal((await store.list('example.org')).length, 1);
      await store.removeDomain('example.org');
    });
  });
}

// ---------------------------------------------------------------- local files

const dataDir = mkdtempSync(join(tmpdir(), 'postern-dkim-'));
const keyDir = join(dataDir, 'dkim');
after(() => rmSync(dataDir, { recursive: true, force: true }));

contract('local files', () => localDkimKeyStore(keyDir));

describe('DKIM key store: local files on disk', () => {
  it('keeps the directory 0700 and each file 0600 whatever the umask, and leaves no temporary file', async () => {
    const old = process.umask(0o000);
    try {
      const store = openDkimKeyStore({ store: 'local', secretPrefix: 'unused/' }, { dataDir }).store;
      await store.add(FIRST[0]);
      await store.add(FIRST[1]);
      assert.equal(statSync(keyDir).mode & 0o777, 0o700);
      assert.deepEqual(readdirSync(keyDir), ['example.org.json']);
      assert.equal(statSync(join(keyDir, 'example.org.json')).mode & 0o777, 0o600);
      await store.removeDomain('example.org');
      assert.deepEqual(readdirSync(keyDir), []);
    } finally {
      process.umask(old);
    }
  });

  it('changes made at once lose nothing (a lock file around each read-modify-write), and leave no lock', async () => {
    const store = localDkimKeyStore(keyDir);
    const keys = Array.from({ length: 12 }, (_, i) => ({
      ...FIRST[i % 2],
      selector: `c${String(i).padStart(2, '0')}`,
    }));
    await Promise.all(keys.map((k) => store.add(k)));
    assert.equal((await store.list('example.org')).length, 12);
    await Promise.all(keys.slice(0, 6).map((k) => store.removeKey('example.org', k.selector)));
    assert.equal((await store.list('example.org')).length, 6);
    assert.deepEqual(readdirSync(keyDir), ['example.org.json']);
    await store.removeDomain('example.org');
  });

  it('refuses a damaged key file instead of taking it for "no keys" (which would send mail unsigned)', async () => {
    const store = localDkimKeyStore(keyDir);
    writeFileSync(join(keyDir, 'broken.example.json'), '{"version":1,"keys":[{"domain":"other.example"}]}');
    await assert.rejects(store.signingKeys('broken.example'), /malformed/);
    writeFileSync(join(keyDir, 'broken.example.json'), '{"version":1,"ke');
    await assert.rejects(store.signingKeys('broken.example'), SyntaxError);
    await store.removeDomain('broken.example');
  });

  it('openDkimSigner signs with the configured store; the local one needs the data directory', async () => {
    const config = { store: 'local', secretPrefix: 'unused/' } as const;
    assert.throws(() => openDkimKeyStore(config), /needs the data directory/);
    const { signer, close } = openDkimSigner(config, { dataDir, logger: silentLogger });
    try {
      const store = localDkimKeyStore(keyDir);
      for (const key of FIRST) await store.add(key);
      const message = Buffer.from('From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n');
      const prefix = await signer.sign('example.org', async () => Readable.from([message]));
      assert.deepEqual(
        [...prefix.matchAll(/\bs=([^;]+);/g)].map((m) => m[1]),
        FIRST.map((k) => k.selector),
      );
      await store.removeDomain('example.org');
    } finally {
      close();
    }
  });

  it('names files by the normalised domain only (no path from the input)', async () => {
    const store = localDkimKeyStore(keyDir);
    await assert.rejects(store.list('../etc/passwd'), /invalid domain/);
    await assert.rejects(store.add({ ...FIRST[0], domain: 'a/b.example' } as DkimPrivateKey), /invalid domain/);
  });
});

// ---------------------------------------------------------------- Secrets Manager (stand-in)

let sm: SecretsManagerStandIn;
before(async () => {
  sm = await startSecretsManager();
});
after(() => sm?.stop());

const PREFIX = 'postern-test/dkim/';
const smStore = () =>
  secretsManagerDkimKeyStore({
    prefix: PREFIX,
    client: makeSecretsManagerClient({ endpoint: sm.endpoint }),
  });

contract('Secrets Manager (local stand-in, real SDK client)', smStore);

describe('DKIM key store: Secrets Manager requests', () => {
  it('one secret per domain under the prefix: Create first, Put for later keys, Delete without recovery', async () => {
    sm.requests.length = 0;
    const store = smStore();
    await store.add(FIRST[0]);
    await store.add(FIRST[1]);
    await store.removeDomain('example.org');
    assert.deepEqual(
      sm.requests.map((r) => [r.op, r.body.SecretId ?? r.body.Name]),
      [
        ['GetSecretValue', `${PREFIX}example.org`],
        ['PutSecretValue', `${PREFIX}example.org`],
        ['CreateSecret', `${PREFIX}example.org`],
        ['GetSecretValue', `${PREFIX}example.org`],
        ['PutSecretValue', `${PREFIX}example.org`],
        ['DeleteSecret', `${PREFIX}example.org`],
      ],
    );
    assert.equal(sm.requests[5].body.ForceDeleteWithoutRecovery, true);
    const doc = JSON.parse(String(sm.requests[4].body.SecretString)) as { keys: DkimPrivateKey[] };
    assert.deepEqual(
      doc.keys.map((k) => k.selector),
      ['p202612r', 'p202612e'],
    );
    assert.equal(sm.secrets.size, 0);
  });

  it('a failing Secrets Manager is an error, never "no keys"', async () => {
    sm.secrets.set(`${PREFIX}bad.example`, 'not json');
    await assert.rejects(smStore().signingKeys('bad.example'), SyntaxError);
    const down = secretsManagerDkimKeyStore({
      prefix: PREFIX,
      client: makeSecretsManagerClient({ endpoint: 'http://127.0.0.1:1' }),
    });
    await assert.rejects(down.signingKeys('example.org'));
  });
});
