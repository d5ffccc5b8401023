/**
 * The smarthost and MX transports against Debian's Postfix as the receiving MTA (a server nobody here
 * wrote): per-recipient replies in one transaction, the null sender, STARTTLS, DSN parameters accepted, the
 * bytes delivered intact. Skipped when Postfix is not installed or the tests do not run as root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MxTransport } from '../../lib/outbound/transports/mx.ts';
import { SmarthostTransport } from '../../lib/outbound/transports/smarthost.ts';
import { stubResolver } from '../../lib/pipeline/dns.ts';
import { envelope, MESSAGE, openMessage, TEST_TIMEOUTS } from '../support/outbound.ts';
import { type Postfix, startPostfix } from '../support/postfix.ts';

let postfix: Postfix | undefined;
let smarthost: SmarthostTransport;

before(async () => {
  postfix = await startPostfix();
  if (postfix) {
    smarthost = new SmarthostTransport({
      host: '127.0.0.1',
      port: postfix.port,
      tls: 'opportunistic',
      heloName: 'mail.ours.test',
      timeouts: TEST_TIMEOUTS,
    });
  }
});
after(() => {
  smarthost?.close();
  postfix?.stop();
});

/** The body as delivered: what follows Postfix's own trace fields (Return-Path, Delivered-To, Received). */
const bodyOf = (delivered: Buffer) => delivered.subarray(delivered.indexOf('From: alice@ours.test'));

describe('Postfix as the smarthost', () => {
  it('250, 450 and 550 for three recipients of one transaction (RFC 5321 §4.2.1)', async (t) => {
    if (!postfix) return t.skip('postfix not available');
    const outcomes = await smarthost.deliver(
      envelope(['ok@remote.test', 'soft@remote.test', 'hard@remote.test'], { mailFrom: '' }),
      openMessage,
      MESSAGE.length,
    );
    const by = new Map(outcomes.map((o) => [o.address, o]));
    assert.equal(by.get('ok@remote.test')?.result, 'delivered', by.get('ok@remote.test')?.reply);
    assert.match(by.get('ok@remote.test')!.reply, /^250 2\.0\.0 Ok: queued as \w+/);
    assert.equal(by.get('soft@remote.test')?.result, 'deferred');
    assert.match(
      by.get('soft@remote.test')!.reply,
      /^450 4\.2\.1 <soft@remote\.test>: Recipient address rejected: Mailbox busy/,
    );
    assert.equal(by.get('hard@remote.test')?.result, 'failed');
    assert.match(by.get('hard@remote.test')!.reply, /^550 5\.1\.1 <hard@remote\.test>: Recipient address rejected/);
    const [copy] = await postfix.delivered('ok');
    assert.ok(copy, 'delivered into the Maildir');
    const text = copy.toString('latin1');
    assert.match(text, /^Return-Path: <>\r?\n/, 'the null sender');
    assert.match(text, /\(using TLSv1\.[23] /, 'over STARTTLS');
    assert.equal(bodyOf(copy).toString('latin1').replace(/\r?\n/g, '\r\n'), MESSAGE.toString('latin1'));
  });

  it('DSN parameters are accepted (Postfix offers DSN) and the message is delivered', async (t) => {
    if (!postfix) return t.skip('postfix not available');
    const outcomes = await smarthost.deliver(
      envelope(['ok1@remote.test'], {
        dsn: {
          ret: 'HDRS',
          envId: 'E1',
          recipients: { 'ok1@remote.test': { notify: ['FAILURE'], orcpt: 'rfc822;orig@ours.test' } },
        },
      }),
      openMessage,
      MESSAGE.length,
    );
    assert.equal(outcomes[0].result, 'delivered', outcomes[0].reply);
    assert.equal((await postfix.delivered('ok1')).length, 1);
    const log = postfix.log();
    assert.match(log, /< localhost\[127\.0\.0\.1\]: MAIL FROM:<alice@ours\.test> .*RET=HDRS ENVID=E1/);
    assert.match(
      log,
      /< localhost\[127\.0\.0\.1\]: RCPT TO:<ok1@remote\.test> NOTIFY=FAILURE ORCPT=rfc822;orig@ours\.test/,
    );
  });
});

describe('Postfix as the MX (test resolver)', () => {
  it('the first MX refuses the connection, Postfix as the second takes the message', async (t) => {
    if (!postfix) return t.skip('postfix not available');
    const mx = new MxTransport({
      resolver: stubResolver({
        'remote.test': {
          MX: [
            { priority: 10, exchange: 'down.remote.test' },
            { priority: 20, exchange: 'sink.remote.test' },
          ],
        },
        'down.remote.test': { A: ['127.0.0.9'] },
        'sink.remote.test': { A: ['127.0.0.1'] },
      }),
      port: postfix.port,
      heloName: 'mail.ours.test',
      timeouts: TEST_TIMEOUTS,
      allowPrivateAddresses: true,
    });
    const before = (await postfix.delivered('ok', 0, 0)).length;
    const [o] = await mx.deliver(envelope(['ok@remote.test']), openMessage, MESSAGE.length);
    assert.equal(o.result, 'delivered', o.reply);
    assert.equal(o.remoteMta, `sink.remote.test[127.0.0.1]:${postfix.port}`);
    assert.equal((await postfix.delivered('ok', before + 1)).length, before + 1);
  });

  it('450, then accepted on the next attempt once the server takes it', async (t) => {
    if (!postfix) return t.skip('postfix not available');
    const mx = new MxTransport({
      resolver: stubResolver({ 'remote.test': { A: ['127.0.0.1'] } }),
      port: postfix.port,
      heloName: 'mail.ours.test',
      timeouts: TEST_TIMEOUTS,
      allowPrivateAddresses: true,
    });
    const [first] = await mx.deliver(envelope(['soft@remote.test']), openMessage, MESSAGE.length);
    assert.equal(first.result, 'deferred');
    assert.match(first.reply, /^450 4\.2\.1 /);
    await postfix.reconfigure({ smtpd_recipient_restrictions: 'permit_mynetworks, reject' });
    const [second] = await mx.deliver(envelope(['soft@remote.test']), openMessage, MESSAGE.length);
    assert.equal(second.result, 'delivered', second.reply);
    assert.equal((await postfix.delivered('soft')).length, 1);
  });

  it('delivers to the MX host, recipient by recipient', async (t) => {
    if (!postfix) return t.skip('postfix not available');
    const mx = new MxTransport({
      resolver: stubResolver({
        'remote.test': { MX: [{ priority: 10, exchange: 'sink.remote.test' }] },
        'sink.remote.test': { A: ['127.0.0.1'] },
      }),
      port: postfix.port,
      heloName: 'mail.ours.test',
      timeouts: TEST_TIMEOUTS,
      allowPrivateAddresses: true,
    });
    const outcomes = await mx.deliver(envelope(['ok2@remote.test', 'hard@remote.test']), openMessage, MESSAGE.length);
    const by = new Map(outcomes.map((o) => [o.address, o]));
    assert.equal(by.get('ok2@remote.test')?.result, 'delivered', by.get('ok2@remote.test')?.reply);
    assert.equal(by.get('ok2@remote.test')?.remoteMta, `sink.remote.test[127.0.0.1]:${postfix.port}`);
    assert.equal(by.get('hard@remote.test')?.result, 'failed');
    const [copy] = await postfix.delivered('ok2');
    assert.match(copy.toString('latin1'), /^Return-Path: <alice@ours\.test>/);
  });
});
