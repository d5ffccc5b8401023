/**
 * The admin CLI publishing DKIM selectors in the deployment's hosted zone (--aws with POSTERN_HOSTED_ZONE_ID):
 * through the real Route 53 SDK client against the stand-in (test/support/route53.ts), the zone then holds
 * exactly the TXT records `admin dns` prints, and no more once a selector is retired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { type AdminEmulator, adminEmulator, assertInputError, assertOk, runAdmin } from '../support/adminCli.ts';
import { type Route53StandIn, startRoute53 } from '../support/route53.ts';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secretsManager.ts';
import { testEndpoints } from '../support/storage.ts';

const ZONE = 'Z0DKIMTEST';
const endpoints: AwsEndpoints = await testEndpoints();
let emulator: AdminEmulator;
let secrets: SecretsManagerStandIn;
let route53: Route53StandIn;
let env: NodeJS.ProcessEnv;

before(async () => {
  emulator = await adminEmulator(endpoints, 'postern-admin-dkim-r53-');
  secrets = await startSecretsManager();
  route53 = await startRoute53({ [ZONE]: 'zone.example' });
  env = {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_ROUTE_53: route53.endpoint,
    POSTERN_TABLE_PREFIX: emulator.prefix,
    POSTERN_DKIM_SECRET_PREFIX: 'r53-run/dkim/',
    POSTERN_HOSTED_ZONE_ID: ZONE,
  };
});

after(async () => {
  emulator?.close();
  await secrets?.stop();
  await route53?.stop();
});

const admin = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) =>
  runAdmin(['--aws', ...args], { dataDir: emulator.dataDir, env: { ...env, ...extra } });

/** The `_domainkey` TXT lines of `admin dns`: owner name (no trailing dot) -> the data as printed. */
async function printedDkim(domain: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of assertOk(await admin(['dns', domain]))) {
    const m = /^(\S+\._domainkey\.\S+)\.\s+IN\s+TXT\s+(.+)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The zone's `_domainkey` TXT records in the stand-in: owner name -> the one value. */
function zoneDkim(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, { ttl, values }] of route53.records) {
    const [zone, name, type] = key.split(' ');
    if (zone !== ZONE || type !== 'TXT' || !name.includes('._domainkey.')) continue;
    assert.equal(ttl, 1800);
    assert.equal(values.length, 1, `${name}: one record, its text in several strings`);
    out[name] = values[0];
  }
  return out;
}

describe('admin CLI: DKIM records in the Route 53 hosted zone', () => {
  it('domain add and dkim rotate publish the new selectors with the text admin dns prints', async () => {
    const added = assertOk(await admin(['domain', 'add', 'zone.example']));
    assert.match(added[1], new RegExp(`^added DKIM keys .*; published their TXT records in hosted zone ${ZONE}$`));
    assert.equal(Object.keys(zoneDkim()).length, 2);
    assert.deepEqual(zoneDkim(), await printedDkim('zone.example'));

    const rotated = assertOk(await admin(['dkim', 'rotate', 'zone.example']));
    assert.match(rotated[1], new RegExp(`^published their TXT records in hosted zone ${ZONE}; keep the older`));
    const zone = zoneDkim();
    assert.equal(Object.keys(zone).length, 4);
    assert.deepEqual(zone, await printedDkim('zone.example'));
    const rsa = Object.entries(zone).find(([name]) => /r02\._domainkey/.test(name));
    assert.ok(rsa);
    // RFC 6376 §3.6.2.2: a 2048-bit RSA key's text is longer than one 255-octet character-string.
    const strings = [...rsa[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    assert.ok(strings.length > 1);
    for (const s of strings) assert.ok(s.length <= 255);
    assert.match(strings.join(''), /^v=DKIM1; k=rsa; p=MII/);
  });

  it('dkim publish writes every selector again; a re-run changes nothing', async () => {
    const before = zoneDkim();
    const first = assertOk(await admin(['dkim', 'publish', 'zone.example']));
    assert.equal(first.length, 4);
    assert.match(
      first[0],
      new RegExp(`^published p\\d{6}[re](02)?\\._domainkey\\.zone\\.example\\. TXT in hosted zone ${ZONE}$`),
    );
    assert.deepEqual(zoneDkim(), before);
    const changes = route53.requests.filter((r) => r.method === 'POST').length;
    assert.deepEqual(assertOk(await admin(['dkim', 'publish', 'zone.example'])), first);
    assert.deepEqual(zoneDkim(), before);
    assert.equal(route53.requests.filter((r) => r.method === 'POST').length, changes + 4, 'four UPSERTs');
  });

  it('dkim retire removes the selector from the zone; the others stay', async () => {
    const before = zoneDkim();
    const old = Object.keys(before).find((n) => /^p\d{6}r\./.test(n));
    assert.ok(old);
    const selector = old.split('.')[0];
    assert.deepEqual(assertOk(await admin(['dkim', 'retire', 'zone.example', selector])), [
      `retired DKIM key ${selector} of zone.example; removed ${old}. from hosted zone ${ZONE}`,
    ]);
    const { [old]: _, ...rest } = before;
    assert.deepEqual(zoneDkim(), rest);
    assert.deepEqual(zoneDkim(), await printedDkim('zone.example'));
  });

  it('a domain outside the zone, or no zone: nothing is written, dkim publish refuses', async () => {
    const writes = route53.requests.filter((r) => r.method === 'POST').length;
    const added = assertOk(await admin(['domain', 'add', 'elsewhere.example']));
    assert.match(added[1], /; publish them: npm run admin -- dns elsewhere\.example$/);
    assertInputError(await admin(['dkim', 'publish', 'elsewhere.example']), /not in hosted zone Z0DKIMTEST/);
    assertInputError(
      await admin(['dkim', 'publish', 'zone.example'], { POSTERN_HOSTED_ZONE_ID: '' }),
      /dkim publish needs --aws and POSTERN_HOSTED_ZONE_ID/,
    );
    assert.equal(route53.requests.filter((r) => r.method === 'POST').length, writes);
  });

  it('domain remove takes its selectors out of the zone', async () => {
    assert.equal(Object.keys(zoneDkim()).length, 3);
    assert.deepEqual(assertOk(await admin(['domain', 'remove', 'zone.example'])), ['removed domain zone.example']);
    assert.deepEqual(zoneDkim(), {});
  });
});
