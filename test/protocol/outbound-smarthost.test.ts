/**
 * The smarthost transport over real TCP against smtp-server (the npm library) as the relay: per-recipient
 * results in one transaction, the null sender, no answer / timeouts as our 4xx, TLS modes, AUTH, DSN and
 * 8BITMIME parameters, and sessions kept open between messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutboundEnvelope } from '../../lib/core/outbound.ts';
import { createTransport } from '../../lib/outbound/transports/index.ts';
import { type SmarthostOptions, SmarthostTransport } from '../../lib/outbound/transports/smarthost.ts';
import { envelope, MESSAGE, openMessage, TEST_TIMEOUTS } from '../support/outbound.ts';
import {
  closedPort,
  type Sink,
  type SinkOptions,
  silentServer,
  startSink,
  testCertificate,
} from '../support/smtpSink.ts';

const sinks: Sink[] = [];
const transports: SmarthostTransport[] = [];
async function sink(options: SinkOptions = {}): Promise<Sink> {
  const s = await startSink(options);
  sinks.push(s);
  return s;
}
function smarthost(port: number, options: Partial<SmarthostOptions> = {}): SmarthostTransport {
  const t = new SmarthostTransport({
    host: '127.0.0.1',
    port,
    tls: 'opportunistic',
    heloName: 'mail.ours.test',
    timeouts: TEST_TIMEOUTS,
    ...options,
  });
  transports.push(t);
  return t;
}

/** One message to ok@remote.test. */
function sendOne(t: SmarthostTransport, extra: Partial<OutboundEnvelope> = {}) {
  return t.deliver(envelope(['ok@remote.test'], extra), openMessage, 1);
}

after(async () => {
  for (const t of transports) t.close();
  await Promise.all(sinks.map((s) => s.close()));
});

describe('smarthost: replies per recipient', () => {
  it('one transaction with 250, 450 and 550 recipients: delivered, deferred, failed (RFC 5321 §4.2.1)', async () => {
    const relay = await sink();
    const outcomes = await smarthost(relay.port).deliver(
      envelope(['ok@remote.test', 'soft@remote.test', 'hard@remote.test']),
      openMessage,
      MESSAGE.length,
    );
    const by = new Map(outcomes.map((o) => [o.address, o]));
    assert.equal(by.get('ok@remote.test')?.result, 'delivered');
    assert.match(by.get('ok@remote.test')!.reply, /^250 2\.0\.0 Ok: queued as T1/);
    assert.equal(by.get('soft@remote.test')?.result, 'deferred');
    assert.match(by.get('soft@remote.test')!.reply, /^450 4\.2\.1/);
    assert.equal(by.get('hard@remote.test')?.result, 'failed');
    assert.match(by.get('hard@remote.test')!.reply, /^550 5\.1\.1/);
    assert.equal(by.get('ok@remote.test')?.remoteMta, '127.0.0.1:' + relay.port);
    assert.equal(relay.transactions.length, 1);
    assert.deepEqual(
      relay.transactions[0].rcpts.map((r) => r.address),
      ['ok@remote.test'],
    );
    // Dot-stuffing on the wire and unstuffing by the server give back the very bytes.
    assert.deepEqual(relay.transactions[0].data, MESSAGE);
  });

  it('the null sender goes out as MAIL FROM:<> (RFC 5321 §4.5.5)', async () => {
    const relay = await sink();
    const outcomes = await sendOne(smarthost(relay.port), { mailFrom: '' });
    assert.equal(outcomes[0].result, 'delivered');
    assert.equal(relay.transactions[0].mailFrom, '');
  });

  it('a 554 after DATA fails the accepted recipients and keeps the RCPT refusal of the others', async () => {
    const relay = await sink({ dataReply: { code: 554, message: '5.7.1 Message refused' } });
    const outcomes = await smarthost(relay.port).deliver(
      envelope(['ok@remote.test', 'soft@remote.test']),
      openMessage,
      MESSAGE.length,
    );
    const by = new Map(outcomes.map((o) => [o.address, o]));
    assert.equal(by.get('ok@remote.test')?.result, 'failed');
    assert.match(by.get('ok@remote.test')!.reply, /^554 5\.7\.1 Message refused/);
    assert.equal(by.get('soft@remote.test')?.result, 'deferred');
    assert.match(by.get('soft@remote.test')!.reply, /^450/);
  });

  it('a 451 after DATA defers', async () => {
    const relay = await sink({ dataReply: { code: 451, message: '4.3.0 Try again' } });
    const [o] = await smarthost(relay.port).deliver(envelope(['ok@remote.test']), openMessage, MESSAGE.length);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.3\.0 Try again/);
  });

  it('a refused session (421 banner) defers with the server line', async () => {
    const relay = await sink({ refuseSessions: 421 });
    const [o] = await sendOne(smarthost(relay.port));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^421 /);
  });

  it('a 554 banner is not final for the message: deferred 451 4.3.0 with the server line', async () => {
    const relay = await sink({ refuseSessions: 554 });
    const [o] = await sendOne(smarthost(relay.port));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.3\.0 127\.0\.0\.1:\d+ refused the session: 554 /);
  });
});

describe('smarthost: no answer', () => {
  it('connection refused: deferred with our 451 4.4.1', async () => {
    const port = await closedPort();
    const [o] = await sendOne(smarthost(port));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.1 No answer from 127\.0\.0\.1:\d+/);
  });

  it('no greeting in time: deferred with our 451 4.4.1, within the bound', async () => {
    const silent = await silentServer();
    const started = Date.now();
    const [o] = await sendOne(smarthost(silent.port));
    await silent.close();
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.1 .*reeting/);
    assert.ok(Date.now() - started < TEST_TIMEOUTS.greetingMs + 1500, `took ${Date.now() - started} ms`);
  });
});

describe('smarthost: timeouts', () => {
  it('no reply to the final dot: deferred with our 451 4.4.2 once the socket is idle too long', async () => {
    const relay = await sink({ hangAfterData: true });
    const started = Date.now();
    const [o] = await sendOne(smarthost(relay.port));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.2 Bad connection to 127\.0\.0\.1:\d+/);
    assert.ok(Date.now() - started < TEST_TIMEOUTS.socketMs + 1500, `took ${Date.now() - started} ms`);
  });

  it('a kept session the relay closed meanwhile is noticed (RSET) and replaced, the message still goes', async () => {
    const relay = await sink({ idleCloseMs: 200 });
    const t = smarthost(relay.port);
    assert.equal((await sendOne(t))[0].result, 'delivered');
    await new Promise((r) => setTimeout(r, 600));
    const [o] = await sendOne(t);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions.length, 2);
    assert.equal(relay.sessions, 2);
  });
});

describe('smarthost: TLS and AUTH', () => {
  it('STARTTLS required, with the relay CA trusted: the session is under TLS', async () => {
    const tls = await testCertificate();
    const relay = await sink({ tls });
    const t = smarthost(relay.port, { host: 'localhost', tls: 'starttls', ca: tls.cert });
    const [o] = await sendOne(t);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].secure, true);
  });

  it('STARTTLS required and the certificate not trusted: deferred with 451 4.7.5, nothing sent', async () => {
    const relay = await sink({ tls: await testCertificate() });
    const [o] = await sendOne(smarthost(relay.port, { host: 'localhost', tls: 'starttls' }));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.5 /);
    assert.equal(relay.transactions.length, 0);
  });

  it('STARTTLS required but not offered: deferred with 451 4.7.4, nothing sent', async () => {
    const relay = await sink();
    const [o] = await sendOne(smarthost(relay.port, { tls: 'starttls' }));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.4 /);
    assert.equal(relay.transactions.length, 0);
  });

  it('opportunistic: STARTTLS is used when offered, any certificate', async () => {
    const relay = await sink({ tls: await testCertificate() });
    const [o] = await sendOne(smarthost(relay.port));
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].secure, true);
  });

  it('implicit TLS (port 465 style)', async () => {
    const tls = await testCertificate();
    const relay = await sink({ tls, implicitTls: true });
    const [o] = await sendOne(smarthost(relay.port, { host: 'localhost', tls: 'implicit', ca: tls.cert }));
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].secure, true);
  });

  it('AUTH to the relay after STARTTLS', async () => {
    const tls = await testCertificate();
    const auth = { user: 'relay-user', pass: 'relay secret' };
    const relay = await sink({ tls, auth });
    const t = smarthost(relay.port, { host: 'localhost', tls: 'starttls', ca: tls.cert, auth });
    const [o] = await sendOne(t);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].user, 'relay-user');
  });

  it('AUTH refused: deferred with 451 4.7.0 and the relay line', async () => {
    const tls = await testCertificate();
    const relay = await sink({ tls, auth: { user: 'relay-user', pass: 'right' } });
    const t = smarthost(relay.port, {
      host: 'localhost',
      tls: 'starttls',
      ca: tls.cert,
      auth: { user: 'relay-user', pass: 'wrong' },
    });
    const [o] = await sendOne(t);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.0 .*535 5\.7\.8/);
  });

  it('tls none: no STARTTLS even when offered', async () => {
    const relay = await sink({ tls: await testCertificate() });
    const [o] = await sendOne(smarthost(relay.port, { tls: 'none' }));
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].secure, false);
  });

  it('AUTH in the clear only when the settings turn TLS off for a relay on loopback (createTransport)', async () => {
    const auth = { user: 'relay-user', pass: 'relay secret' };
    const relay = await sink({ auth, allowInsecureAuth: true });
    const settings = { host: '127.0.0.1', port: relay.port, user: auth.user, password: auth.pass };
    const deps = { heloName: 'mail.ours.test', timeouts: TEST_TIMEOUTS };
    const loopbackPlain = createTransport({ transport: 'smarthost', smarthost: { ...settings, tls: 'none' } }, deps);
    const [o] = await loopbackPlain.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].user, 'relay-user');
    const opportunistic = createTransport(
      { transport: 'smarthost', smarthost: { ...settings, tls: 'opportunistic' } },
      deps,
    );
    const [refused] = await opportunistic.deliver(envelope(['ok@remote.test']), openMessage, 1);
    assert.match(refused.reply, /^451 4\.7\.4 .*in the clear/);
    for (const t of [loopbackPlain, opportunistic]) (t as SmarthostTransport).close();
  });

  it('credentials are never sent without TLS unless allowed', async () => {
    const auth = { user: 'relay-user', pass: 'relay secret' };
    const relay = await sink({ auth });
    const [o] = await sendOne(smarthost(relay.port, { auth }));
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.4 .*in the clear/);
    assert.equal(relay.transactions.length, 0);
  });
});

describe('smarthost: parameters', () => {
  it('DSN parameters pass through: RET, ENVID on MAIL; NOTIFY, ORCPT per RCPT (RFC 3461 §4)', async () => {
    const relay = await sink({ dsn: true });
    const outcomes = await smarthost(relay.port).deliver(
      envelope(['ok1@remote.test', 'ok2@remote.test', 'ok3@remote.test'], {
        dsn: {
          ret: 'HDRS',
          envId: 'env+id=1',
          recipients: {
            'ok1@remote.test': { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;first@ours.test' },
            'ok2@remote.test': { notify: [] },
          },
        },
      }),
      openMessage,
      MESSAGE.length,
    );
    assert.deepEqual(
      outcomes.map((o) => o.result),
      ['delivered', 'delivered', 'delivered'],
    );
    // One transaction per distinct RCPT parameter set; each recipient in exactly one of them.
    assert.equal(relay.transactions.length, 3);
    for (const t of relay.transactions) {
      assert.equal(t.mailArgs.RET, 'HDRS');
      assert.equal(t.mailArgs.ENVID, 'env+id=1', 'xtext-encoded on the wire, decoded by the server');
      assert.equal(t.rcpts.length, 1);
    }
    const rcpt = (a: string) => relay.transactions.flatMap((t) => t.rcpts).find((r) => r.address === a)!;
    assert.equal(rcpt('ok1@remote.test').args.NOTIFY, 'SUCCESS,FAILURE');
    assert.equal(rcpt('ok1@remote.test').args.ORCPT, 'rfc822;first@ours.test');
    assert.equal(rcpt('ok2@remote.test').args.NOTIFY, 'NEVER');
    assert.equal(rcpt('ok3@remote.test').args.NOTIFY, undefined);
    // the relay took the DSN parameters: it reports from here on, so no "relayed" report of ours (RFC 3461 §6.2.6.1)
    assert.deepEqual(
      outcomes.map((o) => o.handedTo),
      ['dsn-relay', 'dsn-relay', 'dsn-relay'],
    );
    const plain = await sink();
    const [noDsn] = await smarthost(plain.port).deliver(
      envelope(['ok1@remote.test'], { dsn: { recipients: { 'ok1@remote.test': { notify: ['SUCCESS'] } } } }),
      openMessage,
      MESSAGE.length,
    );
    assert.equal(noDsn.handedTo, undefined, 'a relay without DSN: ours to report');
  });

  it('BODY=8BITMIME for an 8-bit message; a relay without 8BITMIME gets nothing (RFC 6152 §3)', async () => {
    const relay = await sink();
    const [o] = await sendOne(smarthost(relay.port), { eightBit: true });
    assert.equal(o.result, 'delivered');
    assert.equal(relay.transactions[0].mailArgs.BODY, '8BITMIME');
    const old = await sink({ plain7bit: true });
    const [refused] = await sendOne(smarthost(old.port), { eightBit: true });
    assert.equal(refused.result, 'failed');
    assert.match(refused.reply, /^554 5\.6\.3 /);
    assert.equal(old.transactions.length, 0);
  });

  it('larger than the SIZE the relay announces: failed 552 5.3.4 before MAIL, the session kept (RFC 1870 §6.1)', async () => {
    const relay = await sink({ maxSize: 50 });
    const t = smarthost(relay.port);
    const [o] = await t.deliver(envelope(['ok@remote.test']), openMessage, MESSAGE.length);
    assert.equal(o.result, 'failed');
    assert.match(o.reply, /^552 5\.3\.4 Message too big for 127\.0\.0\.1:\d+/);
    assert.equal(relay.transactions.length, 0);
    assert.equal(t.keptSessions, 1);
  });

  it('SMTPUTF8 for a non-ASCII address (RFC 6531 §3.4)', async () => {
    const relay = await sink();
    const [o] = await smarthost(relay.port).deliver(
      envelope(['jürgen@remote.test'], { smtpUtf8: true }),
      openMessage,
      1,
    );
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(relay.transactions[0].mailArgs.SMTPUTF8, true as unknown as string);
  });
});

describe('smarthost: keep-alive', () => {
  let relay: Sink;
  before(async () => {
    relay = await sink();
  });

  it('three messages go over one session, kept open between them', async () => {
    const t = smarthost(relay.port);
    for (let i = 0; i < 3; i++) {
      const [o] = await sendOne(t);
      assert.equal(o.result, 'delivered');
    }
    assert.equal(relay.transactions.length, 3);
    assert.equal(relay.sessions, 1);
    assert.equal(t.keptSessions, 1);
    t.close();
    assert.equal(t.keptSessions, 0);
  });
});
