/**
 * The gateway's certificate without a hand in the loop (lib/gateway/tls.ts, lib/net/liveTls.ts): an empty
 * (placeholder) secret is served as a temporary self-signed certificate for the host name; a new secret
 * version reaches every TLS listener (implicit TLS, SMTP STARTTLS, IMAP STARTTLS, POP3 STLS) for new
 * connections, while connections opened before keep working. Against the Secrets Manager stand-in.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import selfsigned from 'selfsigned';
import { silentLogger } from '../../lib/core/log.ts';
import { secretTlsReader, serveTls } from '../../lib/gateway/tls.ts';
import type { TlsMaterial } from '../../lib/net/types.ts';
import { makeSecretsManagerClient } from '../../lib/storage/aws/clients.ts';
import { TlsSecretStore } from '../../lib/storage/aws/tlsSecret.ts';
import { startTestGateway } from '../support/gateway.ts';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secretsManager.ts';
import { connectTls, type TlsConnection, type TlsListener } from '../support/servedCertificate.ts';

const HOST = 'mx.test.example';
const LISTENERS: readonly TlsListener[] = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'];

async function certificate(cn: string): Promise<TlsMaterial & { fingerprint: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: cn }], { keySize: 2048, algorithm: 'sha256' });
  return { key: pems.private, cert: pems.cert, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

const secretArn = 'postern-tls';
const secrets: SecretsManagerStandIn = await startSecretsManager();
after(() => secrets.stop());
secrets.secrets.set(secretArn, JSON.stringify({ cert: '', key: '' }));
const store = new TlsSecretStore(makeSecretsManagerClient({ endpoint: secrets.endpoint }), secretArn);
// a poll far in the future: these tests reload explicitly, the polling test starts one of its own
const served = await serveTls(secretTlsReader(store), { hostname: HOST, reloadMs: 3_600_000, log: silentLogger });
after(() => served.stop());
const tg = await startTestGateway({ tls: served.tls, env: { POSTERN_HOSTNAME: HOST } });

describe('gateway certificate reload', () => {
  it('serves a temporary self-signed certificate for the host name while the secret is the placeholder', async () => {
    const conn = await connectTls(tg.port('imaps'), 'imaps');
    conn.close();
    const cert = new X509Certificate(served.tls.cert);
    assert.equal(conn.fingerprint, cert.fingerprint256);
    assert.equal(cert.checkHost(HOST), HOST);
    assert.equal(cert.issuer, cert.subject, 'self-signed');
  });

  it('a renewed secret reaches new connections on every TLS listener; connections opened before stay usable', async () => {
    const first = await certificate(HOST);
    await store.write(first);
    await served.reloadNow();
    const before: TlsConnection[] = [];
    for (const name of LISTENERS) {
      const conn = await connectTls(tg.port(name), name);
      assert.equal(conn.fingerprint, first.fingerprint, `${name} serves the first certificate`);
      before.push(conn);
    }

    const second = await certificate(HOST);
    await store.write(second);
    await served.reloadNow();
    for (const name of LISTENERS) {
      const conn = await connectTls(tg.port(name), name);
      assert.equal(conn.fingerprint, second.fingerprint, `${name} serves the renewed certificate`);
      conn.close();
    }
    for (const [i, conn] of before.entries()) {
      await conn.alive().catch((err: Error) => assert.fail(`${LISTENERS[i]}: ${err.message}`));
      conn.close();
    }
  });

  it('polls with DescribeSecret only while the version is unchanged, and loads a new version by itself', async () => {
    const pair = await certificate(HOST);
    await store.write(pair);
    const polled = await serveTls(secretTlsReader(store), { hostname: HOST, reloadMs: 1000, log: silentLogger });
    after(() => polled.stop());
    const since = secrets.requests.length;
    await until(() => secrets.requests.slice(since).filter((r) => r.op === 'DescribeSecret').length >= 2);
    assert.deepEqual(
      secrets.requests.slice(since).filter((r) => r.op !== 'DescribeSecret'),
      [],
      'no GetSecretValue for an unchanged version',
    );
    const next = await certificate(HOST);
    await store.write(next);
    await until(() => polled.tls.cert === next.cert);
  });

  it('a malformed new version is refused and the previous certificate still served', async () => {
    const current = served.tls.cert;
    await store.write({ cert: 'not a certificate', key: 'nor a key' });
    await served.reloadNow();
    assert.equal(served.tls.cert, current);
    const conn = await connectTls(tg.port('imaps'), 'imaps');
    conn.close();
    assert.equal(conn.fingerprint, new X509Certificate(current).fingerprint256);
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(done(), 'condition not reached within 20 s');
}
