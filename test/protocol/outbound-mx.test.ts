/**
 * Direct delivery to MX hosts over real TCP: smtp-server sinks on several loopback addresses (127.0.0.2,
 * .3, ...) sharing one port stand for a domain's MX hosts, and a stub resolver (lib/pipeline/dns.ts) for DNS,
 * as the machine has no Internet.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type MxOptions, MxTransport } from '../../lib/outbound/transports/mx.ts';
import { isPublicAddress } from '../../lib/outbound/transports/mxRoute.ts';
import { type DnsRecords, stubResolver } from '../../lib/pipeline/dns.ts';
import { envelope, MESSAGE, openMessage, TEST_TIMEOUTS } from '../support/outbound.ts';
import { type Sink, type SinkOptions, startSink, testCertificate } from '../support/smtpSink.ts';

const sinks: Sink[] = [];
after(() => Promise.all(sinks.map((s) => s.close())));

/** Sinks on 127.0.0.<2..>, all on the same port (the MX port of the transport). */
async function mxHosts(...options: (SinkOptions | 'none')[]): Promise<{ port: number; hosts: (Sink | undefined)[] }> {
  let port = 0;
  const hosts: (Sink | undefined)[] = [];
  for (const [i, o] of options.entries()) {
    if (o === 'none') {
      hosts.push(undefined);
      continue;
    }
    const sink = await startSink({ ...o, host: `127.0.0.${i + 2}`, port });
    port = sink.port;
    sinks.push(sink);
    hosts.push(sink);
  }
  return { port, hosts };
}

function mx(port: number, records: DnsRecords, options: Partial<MxOptions> = {}): MxTransport {
  return new MxTransport({
    resolver: stubResolver(records),
    port,
    heloName: 'mail.ours.test',
    timeouts: TEST_TIMEOUTS,
    allowPrivateAddresses: true,
    ...options,
  });
}

const mxRecord = (priority: number, exchange: string) => ({ priority, exchange });
const ADDRESSES: DnsRecords = {
  'mx1.remote.test': { A: ['127.0.0.2'] },
  'mx2.remote.test': { A: ['127.0.0.3'] },
  'mx3.remote.test': { A: ['127.0.0.4'] },
};

describe('mx: which host (RFC 5321 §5.1)', () => {
  it('the lowest preference first, whatever order DNS gives', async () => {
    const { port, hosts } = await mxHosts({}, {});
    const t = mx(port, {
      ...ADDRESSES,
      'remote.test': { MX: [mxRecord(20, 'mx2.remote.test'), mxRecord(10, 'mx1.remote.test')] },
    });
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, MESSAGE.length);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(o.remoteMta, `mx1.remote.test[127.0.0.2]:${port}`);
    assert.equal(hosts[0]?.transactions.length, 1);
    assert.equal(hosts[1]?.sessions, 0);
    assert.deepEqual(hosts[0]?.transactions[0].data, MESSAGE);
  });

  it('random among equal preferences', async () => {
    const { port, hosts } = await mxHosts({}, {});
    const records = {
      ...ADDRESSES,
      'remote.test': { MX: [mxRecord(10, 'mx1.remote.test'), mxRecord(10, 'mx2.remote.test')] },
    };
    await mx(port, records, { random: () => 0 }).deliver(envelope(['ok@remote.test']), openMessage, 1);
    await mx(port, records, { random: () => 0.99 }).deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(hosts[0]?.transactions.length, 1);
    assert.equal(hosts[1]?.transactions.length, 1);
  });

  it('the next host when the first refuses the connection or the session (421)', async () => {
    const { port, hosts } = await mxHosts('none', { refuseSessions: 421 }, {});
    const t = mx(port, {
      ...ADDRESSES,
      'remote.test': {
        MX: [mxRecord(5, 'mx1.remote.test'), mxRecord(10, 'mx2.remote.test'), mxRecord(20, 'mx3.remote.test')],
      },
    });
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(o.remoteMta, `mx3.remote.test[127.0.0.4]:${port}`);
    assert.equal(hosts[1]?.sessions, 1);
    assert.equal(hosts[2]?.transactions.length, 1);
  });

  it('recipients the first host deferred go to the next; its 250 and 550 are final', async () => {
    const { port, hosts } = await mxHosts({}, { deferAll: true });
    const t = mx(port, {
      ...ADDRESSES,
      'remote.test': { MX: [mxRecord(10, 'mx1.remote.test'), mxRecord(20, 'mx2.remote.test')] },
    });
    const outcomes = await t.deliver(
      envelope(['ok@remote.test', 'soft@remote.test', 'hard@remote.test']),
      openMessage,
      MESSAGE.length,
    );
    const by = new Map(outcomes.map((o) => [o.address, o]));
    assert.equal(by.get('ok@remote.test')?.result, 'delivered');
    assert.equal(by.get('hard@remote.test')?.result, 'failed');
    assert.match(by.get('hard@remote.test')!.reply, /^550 5\.1\.1/);
    assert.equal(by.get('soft@remote.test')?.result, 'deferred');
    assert.match(by.get('soft@remote.test')!.reply, /^451 4\.3\.0 Everything deferred here/);
    assert.equal(by.get('soft@remote.test')?.remoteMta, `mx2.remote.test[127.0.0.3]:${port}`);
    assert.deepEqual(hosts[1]?.rcptAttempts, ['soft@remote.test']);
    assert.equal(outcomes.length, 3);
  });

  it('every host unreachable: deferred with our 451 4.4.1', async () => {
    const { port } = await mxHosts({});
    const t = mx(port + 1 > 65535 ? port - 1 : port + 1, {
      ...ADDRESSES,
      'remote.test': { MX: [mxRecord(10, 'mx2.remote.test'), mxRecord(20, 'mx3.remote.test')] },
    });
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.1 No answer from mx3\.remote\.test/);
  });
});

describe('mx: connections per destination', () => {
  it('at most maxSessionsPerDomain sessions to one domain at once; the rest wait their turn', async () => {
    const { port, hosts } = await mxHosts({});
    const t = mx(
      port,
      { ...ADDRESSES, 'remote.test': { MX: [mxRecord(10, 'mx1.remote.test')] } },
      { maxSessionsPerDomain: 2 },
    );
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => t.deliver(envelope(['ok@remote.test']), openMessage, MESSAGE.length)),
    );
    assert.deepEqual(
      outcomes.map(([o]) => o.result),
      Array(6).fill('delivered'),
    );
    assert.equal(hosts[0]?.transactions.length, 6);
    assert.equal(hosts[0]?.maxConcurrent, 2);
  });
});

describe('mx: what DNS says', () => {
  it('no MX records: the implicit MX, the address of the domain itself (RFC 5321 §5.1)', async () => {
    const { port, hosts } = await mxHosts({});
    const [o] = await mx(port, { 'remote.test': { A: ['127.0.0.2'] } }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(hosts[0]?.transactions.length, 1);
  });

  it('a null MX fails at once with 556 5.1.10 (RFC 7505 §4.1)', async () => {
    const { port, hosts } = await mxHosts({});
    const t = mx(port, { 'remote.test': { MX: [mxRecord(0, '')], A: ['127.0.0.2'] } });
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'failed');
    assert.match(o.reply, /^556 5\.1\.10 /);
    assert.equal(hosts[0]?.sessions, 0);
  });

  it('a domain that does not exist fails (550 5.1.2); one without any address fails (554 5.4.4)', async () => {
    const [gone] = await mx(25, {}).deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(gone.result, 'failed');
    assert.match(gone.reply, /^550 5\.1\.2 /);
    const [bare] = await mx(25, { 'remote.test': { TXT: ['v=spf1 -all'] } }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(bare.result, 'failed');
    assert.match(bare.reply, /^554 5\.4\.4 /);
  });

  it('a DNS failure defers (451 4.4.3)', async () => {
    const [o] = await mx(25, { 'remote.test': 'SERVFAIL' }).deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.3 /);
  });

  it('loopback and private MX addresses are not used unless allowed', async () => {
    const { port, hosts } = await mxHosts({});
    const t = mx(
      port,
      { ...ADDRESSES, 'remote.test': { MX: [mxRecord(10, 'mx1.remote.test')] } },
      { allowPrivateAddresses: false },
    );
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.4 .*non-public/);
    assert.equal(hosts[0]?.sessions, 0);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['192.0.2.1', '8.8.8.8', '2001:db8::1']) assert.equal(isPublicAddress(a), true, a);
  });
});

describe('mx: TLS', () => {
  it('STARTTLS is used when the host offers it (opportunistic, any certificate)', async () => {
    const { port, hosts } = await mxHosts({ tls: await testCertificate() });
    const [o] = await mx(port, { ...ADDRESSES, 'remote.test': { MX: [mxRecord(10, 'mx1.remote.test')] } }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(hosts[0]?.transactions[0].secure, true);
  });

  it('plaintext when the host offers no STARTTLS', async () => {
    const { port, hosts } = await mxHosts({});
    const [o] = await mx(port, { ...ADDRESSES, 'remote.test': { MX: [mxRecord(10, 'mx1.remote.test')] } }).deliver(
      envelope(['ok@remote.test']),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(hosts[0]?.transactions[0].secure, false);
  });
});
