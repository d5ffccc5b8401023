/**
 * A certificate without a hand in the loop, against Pebble (Let's Encrypt's ACME test server): the renewal
 * code (lib/certs/renew.ts) orders a certificate by DNS-01 (RFC 8555 §8.4) through the local challenge
 * writer and DNS stub, stores it in the TLS secret (Secrets Manager stand-in), and the running gateway serves
 * it; a renewal then yields a new certificate that new connections get while connections opened before stay
 * usable. Skipped when Pebble is not installed, except under CI (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import acme from 'acme-client';
import { type RenewalDeps, renewIfDue } from '../../lib/certs/renew.ts';
import { silentLogger } from '../../lib/core/log.ts';
import { secretTlsReader, serveTls } from '../../lib/gateway/tls.ts';
import { AcmeAccountSecret } from '../../lib/storage/aws/acmeAccountSecret.ts';
import { makeSecretsManagerClient } from '../../lib/storage/aws/clients.ts';
import { TlsSecretStore } from '../../lib/storage/aws/tlsSecret.ts';
import { startDnsStub } from '../support/dnsStub.ts';
import { startTestGateway } from '../support/gateway.ts';
import { startPebble } from '../support/pebble.ts';
import { startSecretsManager } from '../support/secretsManager.ts';
import { connectTls } from '../support/servedCertificate.ts';

const HOST = 'mail.acme.test';
const dns = await startDnsStub();
after(() => dns.stop());
const pebble = await startPebble(dns.address);
if (!pebble && process.env.CI) throw new Error('pebble is not installed (.ci/run installs the Debian package)');
if (pebble) after(() => pebble.stop());

describe('ACME DNS-01 issuance and renewal against Pebble', { skip: pebble ? false : 'pebble not installed' }, () => {
  it('issues, serves, keeps, renews, and the renewed certificate reaches new connections only', async (t) => {
    if (!pebble) return;
    // acme-client's HTTP client: trust Pebble's own HTTPS certificate
    acme.axios.defaults.httpsAgent = pebble.httpsAgent;
    const secrets = await startSecretsManager();
    t.after(() => secrets.stop());
    secrets.secrets.set('tls', JSON.stringify({ cert: '', key: '' }));
    secrets.secrets.set('acme-account', '{}');
    const client = makeSecretsManagerClient({ endpoint: secrets.endpoint });
    const store = new TlsSecretStore(client, 'tls');
    const deps: RenewalDeps = {
      certificates: store,
      accountKeys: new AcmeAccountSecret(client, 'acme-account'),
      dns: dns.challengeWriter,
      log: silentLogger,
    };
    const settings = { hostname: HOST, directoryUrl: pebble.directoryUrl, email: 'ops@acme.test', renewBeforeDays: 30 };
    const served = await serveTls(secretTlsReader(store), { hostname: HOST, reloadMs: 3_600_000, log: silentLogger });
    t.after(() => served.stop());
    const tg = await startTestGateway({ tls: served.tls, env: { POSTERN_HOSTNAME: HOST } });
    t.after(() => tg.close());
    const root = await pebble.root();

    const first = await renewIfDue(deps, settings);
    assert.equal(first.action, 'issued');
    assert.ok(
      dns.queries.some((q) => q.name === `_acme-challenge.${HOST}` && q.type === 16),
      'Pebble looked up the TXT record',
    );
    assert.equal(dns.txt.size, 0, 'the challenge record is removed afterwards');
    await served.reloadNow();
    const firstPrint = await verifiedFingerprint(tg.port('imaps'), root);
    const stored = await store.read();
    assert.ok(stored);
    assert.equal(firstPrint, new X509Certificate(stored.cert).fingerprint256);

    const again = await renewIfDue(deps, settings);
    assert.equal(again.action, 'kept', 'a certificate with more than 30 days left is kept');

    const openBefore = [await connectTls(tg.port('smtp'), 'smtp'), await connectTls(tg.port('imap'), 'imap')];
    for (const conn of openBefore) assert.equal(conn.fingerprint, firstPrint);

    // a window longer than the certificate's life: renew now
    const renewed = await renewIfDue(deps, { ...settings, renewBeforeDays: 100_000 });
    assert.equal(renewed.action, 'issued');
    assert.equal(renewed.action === 'issued' && renewed.reason, 'expiring');
    await served.reloadNow();
    const secondPrint = await verifiedFingerprint(tg.port('submissions'), root);
    assert.notEqual(secondPrint, firstPrint);
    assert.equal((await connectTls(tg.port('imap'), 'imap')).fingerprint, secondPrint);
    for (const conn of openBefore) {
      await conn.alive();
      conn.close();
    }
  });
});

/** Connects with full verification (Pebble's root, the host name) and returns the served certificate's print. */
function verifiedFingerprint(port: number, root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: HOST, ca: root }, () => {
      const print = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(print);
    });
    socket.once('error', reject);
  });
}
