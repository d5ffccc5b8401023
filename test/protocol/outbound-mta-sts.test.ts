/**
 * MTA-STS (RFC 8461) in the MX transport: an enforced policy limits delivery to the MX hosts it names, over
 * STARTTLS with a certificate valid for the MX name, else nothing is sent. And the production policy source
 * (mailauth's getPolicy) against a real HTTPS policy host on 127.0.0.5:443 found through the stub resolver.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import selfsigned from 'selfsigned';
import { type MtaStsPolicy, mailauthMtaSts } from '../../lib/outbound/transports/mtaSts.ts';
import { MxTransport } from '../../lib/outbound/transports/mx.ts';
import { type DnsRecords, stubResolver } from '../../lib/pipeline/dns.ts';
import { envelope, openMessage, TEST_TIMEOUTS } from '../support/outbound.ts';
import { type Sink, type SinkOptions, startSink, testCertificate } from '../support/smtpSink.ts';

const sinks: Sink[] = [];
after(() => Promise.all(sinks.map((s) => s.close())));

async function sinkAt(host: string, options: SinkOptions, port = 0): Promise<Sink> {
  const s = await startSink({ ...options, host, port });
  sinks.push(s);
  return s;
}

/** `localhost` is the MX name the test certificate is valid for. */
const DNS: DnsRecords = {
  'remote.test': { MX: [{ priority: 10, exchange: 'localhost' }] },
  localhost: { A: ['127.0.0.2'] },
};

function mx(port: number, policy: MtaStsPolicy | undefined, options: { ca?: string; records?: DnsRecords } = {}) {
  return new MxTransport({
    resolver: stubResolver(options.records ?? DNS),
    port,
    heloName: 'mail.ours.test',
    timeouts: TEST_TIMEOUTS,
    allowPrivateAddresses: true,
    mtaSts: async () => policy,
    tlsCa: options.ca,
  });
}

const enforce = (...names: string[]): MtaStsPolicy => ({ mode: 'enforce', mx: names });

describe('MTA-STS enforced (RFC 8461 §5)', () => {
  it('STARTTLS with a certificate valid for the MX name: delivered', async () => {
    const tls = await testCertificate();
    const host = await sinkAt('127.0.0.2', { tls });
    const [o] = await mx(host.port, enforce('localhost'), { ca: tls.cert }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(host.transactions[0].secure, true);
  });

  it('a host without STARTTLS gets nothing: deferred 451 4.7.4 (§4.2)', async () => {
    const host = await sinkAt('127.0.0.2', {});
    const [o] = await mx(host.port, enforce('localhost')).deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.4 /);
    assert.equal(host.transactions.length, 0);
  });

  it('a certificate that does not verify gets nothing: deferred 451 4.7.5 (§4.2)', async () => {
    const host = await sinkAt('127.0.0.2', { tls: await testCertificate() });
    const [o] = await mx(host.port, enforce('localhost')).deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.5 /);
    assert.equal(host.transactions.length, 0);
  });

  it('only MX hosts the policy names are used (§4.1); none named: deferred, no connection', async () => {
    const tls = await testCertificate();
    const unlisted = await sinkAt('127.0.0.3', { tls });
    const listed = await sinkAt('127.0.0.2', { tls }, unlisted.port);
    const records: DnsRecords = {
      'remote.test': {
        MX: [
          { priority: 5, exchange: 'mx.elsewhere.test' },
          { priority: 10, exchange: 'localhost' },
        ],
      },
      'mx.elsewhere.test': { A: ['127.0.0.3'] },
      localhost: { A: ['127.0.0.2'] },
    };
    const [o] = await mx(listed.port, enforce('localhost'), { ca: tls.cert, records }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(unlisted.sessions, 0);
    assert.equal(listed.transactions.length, 1);
    const [none] = await mx(listed.port, enforce('*.other.test'), { ca: tls.cert, records }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(none.result, 'deferred');
    assert.match(none.reply, /^451 4\.7\.5 No MX host of remote\.test matches its MTA-STS policy/);
    assert.equal(unlisted.sessions + listed.sessions, 1);
  });

  it('testing mode changes nothing: plaintext to a host without STARTTLS', async () => {
    const host = await sinkAt('127.0.0.2', {});
    const [o] = await mx(host.port, { mode: 'testing', mx: ['other.test'] }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
  });
});

describe('the policy from DNS and HTTPS (mailauth)', () => {
  it('no _mta-sts TXT record: no policy', async () => {
    const source = mailauthMtaSts({ resolver: stubResolver({ 'remote.test': { MX: [] } }), timeoutMs: 3000 });
    assert.equal(await source('remote.test'), undefined);
  });

  it('TXT record and policy file on the policy host: the policy (RFC 8461 §3)', async (t) => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'mta-sts.remote.test' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mta-sts.remote.test' }] }],
    });
    let asked = '';
    const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      asked = `${req.headers.host}${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmx: *.remote.test\r\nmax_age: 86400\r\n');
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(443, '127.0.0.5', () => resolve(true));
    });
    if (!listening) return t.skip('cannot listen on 127.0.0.5:443 here');
    const defaults = getCACertificates('default');
    setDefaultCACertificates([...defaults, pems.cert]);
    try {
      const source = mailauthMtaSts({
        resolver: stubResolver({
          '_mta-sts.remote.test': { TXT: ['v=STSv1; id=20261202'] },
          'mta-sts.remote.test': { A: ['127.0.0.5'] },
        }),
        timeoutMs: 3000,
      });
      assert.deepEqual(await source('remote.test'), { mode: 'enforce', mx: ['localhost', '*.remote.test'] });
      assert.equal(asked, 'mta-sts.remote.test/.well-known/mta-sts.txt');
      // Cached: the same id in DNS, the policy is not fetched again.
      asked = '';
      assert.deepEqual(await source('remote.test'), { mode: 'enforce', mx: ['localhost', '*.remote.test'] });
      assert.equal(asked, '');
    } finally {
      setDefaultCACertificates(defaults);
      (server.address() as AddressInfo | null) && server.close();
    }
  });
});
