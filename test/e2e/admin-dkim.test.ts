/**
 * The admin CLI's DKIM side as a user runs it: `domain add` makes the keys, `dns` prints their TXT records,
 * `dkim rotate|list|retire`, `domain remove` deletes them. The records the CLI printed are then what
 * python3-dkim looks up to verify mail signed with the keys the CLI stored (locally: 0600 files; with --aws:
 * the Secrets Manager stand-in, through the real SDK client).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { DkimKeyStore } from '../../lib/core/outbound.ts';
import { dkimKeyDir, localDkimKeyStore } from '../../lib/outbound/dkimLocalKeys.ts';
import { DkimMessageSigner } from '../../lib/outbound/dkimSigner.ts';
import { makeSecretsManagerClient } from '../../lib/storage/aws/clients.ts';
import { secretsManagerDkimKeyStore } from '../../lib/storage/aws/dkimKeys.ts';
import { type AdminEmulator, adminEmulator, assertInputError, assertOk, runAdmin } from '../support/adminCli.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secretsManager.ts';
import { testEndpoints } from '../support/storage.ts';

const endpoints: AwsEndpoints = await testEndpoints();
let emulator: AdminEmulator;
let dataDir: string;
let prefix: string;
let secrets: SecretsManagerStandIn;
const printed: string[] = [];

before(async () => {
  emulator = await adminEmulator(endpoints, 'postern-admin-dkim-');
  ({ dataDir, prefix } = emulator);
  secrets = await startSecretsManager();
});

after(async () => {
  emulator?.close();
  await secrets?.stop();
});

const admin = (args: readonly string[], env?: NodeJS.ProcessEnv) => runAdmin(args, { dataDir, env, printed });

/** The DKIM TXT records in `dns` output: owner name -> the text, its quoted strings joined (as DNS gives it). */
function dkimRecords(lines: readonly string[]): Record<string, string> {
  const records: Record<string, string> = {};
  for (const line of lines) {
    const m = /^(\S+\._domainkey\.\S+)\s+IN\s+TXT\s+(.+)$/.exec(line);
    if (!m) continue;
    const strings = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1]);
    for (const s of strings) assert.ok(s.length <= 255, `a TXT string of ${s.length} octets (RFC 1035 §3.3)`);
    records[m[1]] = strings.join('');
  }
  return records;
}

const MESSAGE = Buffer.from(
  'From: Alice <alice@dkim.example>\r\nTo: bob@example.net\r\nSubject: signed\r\nDate: Wed, 02 Dec 2026 13:00:00 +0000\r\n\r\nHello\r\n',
);

/** Signs MESSAGE with the store's current keys; returns the message and the selectors it was signed with. */
async function signWith(keys: DkimKeyStore, domain: string) {
  const prefix = await new DkimMessageSigner({ keys, logger: silentLogger }).sign(domain, async () =>
    Readable.from([MESSAGE]),
  );
  const selectors = [...prefix.matchAll(/\bs=([^;]+);/g)].map((m) => m[1]);
  return { message: Buffer.concat([Buffer.from(prefix), MESSAGE]), selectors };
}

describe('admin CLI: DKIM', () => {
  it('domain add makes an RSA and an Ed25519 key in 0600 files; dns prints records python3-dkim verifies with', async () => {
    const added = assertOk(await admin(['domain', 'add', 'dkim.example']));
    assert.equal(added[0], 'added domain dkim.example');
    assert.match(
      added[1],
      /^added DKIM keys p\d{6}r \(rsa-sha256\), p\d{6}e \(ed25519-sha256\); publish them: npm run admin -- dns dkim\.example$/,
    );
    const dir = dkimKeyDir(dataDir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'dkim.example.json')).mode & 0o777, 0o600);

    const listed = assertOk(await admin(['dkim', 'list', 'dkim.example']));
    assert.equal(listed.length, 2);
    for (const line of listed)
      assert.match(line, /^p\d{6}[re]\s+(rsa|ed25519)-sha256\s+\d{4}-\d\d-\d\dT\S+Z\s+signing$/);

    const dns = assertOk(await admin(['dns', 'dkim.example']));
    const records = dkimRecords(dns);
    const names = Object.keys(records).sort();
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, /^p\d{6}[re]\._domainkey\.dkim\.example\.$/);
    assert.match(records[names[0]], /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    assert.match(records[names[1]], /^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+$/);
    assert.ok(
      dns.some((l) => /\._domainkey\..*"\s+"/.test(l)),
      'the RSA record is split into several strings',
    );

    const { message, selectors } = await signWith(localDkimKeyStore(dir), 'dkim.example');
    assert.equal(selectors.length, 2);
    assert.deepEqual(await verifyWithDkimpy(message, records), [true, true]);
  });

  it('dkim rotate adds new selectors that sign at once; the old stay published until dkim retire', async () => {
    const before = dkimRecords(assertOk(await admin(['dns', 'dkim.example'])));
    const rotated = assertOk(await admin(['dkim', 'rotate', 'dkim.example']));
    assert.match(
      rotated[0],
      /^added DKIM keys p\d{6}r02 \(rsa-sha256\), p\d{6}e02 \(ed25519-sha256\) for dkim\.example/,
    );
    const listed = assertOk(await admin(['dkim', 'list', 'dkim.example']));
    assert.deepEqual(
      listed.map((l) => l.split(/\s+/).filter((_, i) => i !== 2)),
      listed.map((l) => {
        const selector = l.split(/\s+/)[0];
        const algorithm = /r(\d\d)?$/.test(selector) ? 'rsa-sha256' : 'ed25519-sha256';
        return [selector, algorithm, selector.endsWith('02') ? 'signing' : 'published'];
      }),
    );
    assert.equal(listed.length, 4);

    const records = dkimRecords(assertOk(await admin(['dns', 'dkim.example'])));
    assert.equal(Object.keys(records).length, 4);
    for (const [name, text] of Object.entries(before)) assert.equal(records[name], text, `${name} still published`);
    const { message, selectors } = await signWith(localDkimKeyStore(dkimKeyDir(dataDir)), 'dkim.example');
    for (const s of selectors) assert.match(s, /02$/);
    assert.deepEqual(await verifyWithDkimpy(message, records), [true, true]);
    // Signed with the new keys, the message does not verify against the old records alone.
    assert.deepEqual(await verifyWithDkimpy(message, before), [false, false]);

    const [oldRsa] = Object.keys(before)
      .map((n) => n.split('.')[0])
      .filter((s) => s.endsWith('r'));
    const current = selectors[0];
    assertInputError(await admin(['dkim', 'retire', 'dkim.example', current]), /signs mail of dkim\.example now/);
    assertInputError(await admin(['dkim', 'retire', 'dkim.example', 'p190001r']), /has no DKIM key p190001r/);
    assert.deepEqual(assertOk(await admin(['dkim', 'retire', 'dkim.example', oldRsa])), [
      `retired DKIM key ${oldRsa} of dkim.example; remove ${oldRsa}._domainkey.dkim.example. from DNS`,
    ]);
    assert.equal(assertOk(await admin(['dkim', 'list', 'dkim.example'])).length, 3);
  });

  it('refuses unknown domains and bad usage, exit 2', async () => {
    assertInputError(await admin(['dkim']), /missing dkim command \(list, rotate, retire, publish\)/);
    assertInputError(await admin(['dkim', 'rotate']), /missing argument/);
    assertInputError(await admin(['dkim', 'rotate', 'nowhere.example']), /unknown domain nowhere\.example/);
    assertInputError(await admin(['dkim', 'list', 'not a domain']), /invalid domain/);
    assertInputError(await admin(['dkim', 'retire', 'dkim.example']), /missing argument/);
  });

  it('domain remove deletes the keys; dns then says there is none', async () => {
    const file = join(dkimKeyDir(dataDir), 'dkim.example.json');
    const pems = (JSON.parse(readFileSync(file, 'utf8')) as { keys: { privateKeyPem: string }[] }).keys.map(
      (k) => k.privateKeyPem,
    );
    assert.deepEqual(assertOk(await admin(['domain', 'remove', 'dkim.example'])), ['removed domain dkim.example']);
    assert.equal(existsSync(file), false);
    const dns = assertOk(await admin(['dns', 'dkim.example']));
    assert.deepEqual(dkimRecords(dns), {});
    assert.ok(dns.includes('; DKIM: dkim.example has no key yet: npm run admin -- dkim rotate dkim.example'));
    // Nothing the CLI printed in this file holds a private key, nor any line of one.
    const all = printed.join('\n');
    assert.doesNotMatch(all, /PRIVATE KEY/);
    for (const pem of pems) for (const line of pem.split('\n').slice(1, -2)) assert.ok(!all.includes(line));
  });

  it('with --aws the keys are one Secrets Manager secret per domain under POSTERN_DKIM_SECRET_PREFIX', async () => {
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      POSTERN_TABLE_PREFIX: prefix,
      POSTERN_DKIM_SECRET_PREFIX: 'test-run/dkim/',
    };
    const added = assertOk(await admin(['--aws', 'domain', 'add', 'aws-dkim.example'], env));
    assert.match(added[1], /^added DKIM keys /);
    assert.deepEqual([...secrets.secrets.keys()], ['test-run/dkim/aws-dkim.example']);
    assert.equal(existsSync(join(dkimKeyDir(dataDir), 'aws-dkim.example.json')), false, 'no local file');

    const records = dkimRecords(assertOk(await admin(['--aws', 'dns', 'aws-dkim.example'], env)));
    assert.equal(Object.keys(records).length, 2);
    const client = makeSecretsManagerClient({ endpoint: secrets.endpoint });
    try {
      const store = secretsManagerDkimKeyStore({ prefix: 'test-run/dkim/', client });
      const { message } = await signWith(store, 'aws-dkim.example');
      assert.deepEqual(await verifyWithDkimpy(message, records), [true, true]);
    } finally {
      client.destroy();
    }
    assertOk(await admin(['--aws', 'domain', 'remove', 'aws-dkim.example'], env));
    assert.equal(secrets.secrets.size, 0);
  });
});
