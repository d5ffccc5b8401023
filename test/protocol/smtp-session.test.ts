/**
 * The MX listener, scripted line by line: capabilities, routing and relay control at RCPT TO, the DATA
 * checks (smuggling, dot-unstuffing, size, loops), verdicts, and the abuse limits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { buildProxyV2 } from '../../lib/net/proxyProtocol.ts';
import {
  dkimSignTest,
  dotStuff,
  expectCode,
  RawSmtp,
  sendMail,
  simpleMessage,
  splitDelivered,
  startMxGateway,
} from './smtp-helpers.ts';

const tg = await startMxGateway();
const port = tg.port('smtp');
await tg.addAccount('bob@ours.test', 'pw');
await tg.addAccount('carol@ours.test', 'pw');
await tg.addAccount('full@ours.test', 'pw', 1000);
await tg.addAccount('jürgen@ours.test', 'pw');
await tg.storage.directory.addAlias('team@ours.test', ['bob@ours.test', 'carol@ours.test']);
await tg.storage.directory.addAlias('ext@ours.test', ['someone@elsewhere.test']);
await tg.storage.directory.addDomain('empty.test');

const limited = await startMxGateway({
  env: {
    POSTERN_MAX_CONNECTIONS_PER_IP: '2',
    POSTERN_SMTP_COMMAND_TIMEOUT_MS: '700',
    POSTERN_SMTP_DATA_TIMEOUT_MS: '700',
  },
});
await limited.addAccount('bob@ours.test', 'pw');
const lport = limited.port('smtp');

/** A session that has said EHLO and MAIL FROM. */
async function inTransaction(from = 'alice@sender.test', params = ''): Promise<RawSmtp> {
  const { c } = await RawSmtp.greet(port);
  await expectCode(c.cmd('EHLO client.example'), 250);
  await expectCode(c.cmd(`MAIL FROM:<${from}>${params}`), 250);
  return c;
}

describe('greeting and capabilities (RFC 5321 §4.2, §4.1.1.1)', () => {
  test('greets with the configured host name and advertises the MX extensions, DSN among them, no AUTH', async () => {
    const { c, greeting } = await RawSmtp.greet(port);
    assert.equal(greeting.code, 220);
    assert.match(greeting.text, /^mx\.test\.example ESMTP/);
    const ehlo = await c.cmd('EHLO client.example');
    assert.equal(ehlo.code, 250);
    const caps = ehlo.lines.slice(1).map((l) => l.slice(4));
    // DSN is honoured here: a NOTIFY=SUCCESS recipient's sender gets a "delivered" report (RFC 3461 §5.2.2)
    for (const cap of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
      'SIZE 41943040',
      'DSN',
    ]) {
      assert.ok(caps.includes(cap), `${cap} in ${caps}`);
    }
    assert.ok(!caps.some((cap) => cap.startsWith('AUTH')), 'no AUTH on the MX port');
    const auth = await c.cmd('AUTH PLAIN AGJvYgBwdw==');
    assert.equal(auth.code, 500);
    assert.equal((await c.cmd('HELO client.example')).code, 250);
    assert.equal((await c.cmd('NOOP')).code, 250);
    assert.equal((await c.cmd('QUIT')).code, 221);
    c.close();
  });
});

describe('RCPT TO: routing and relay control', () => {
  test('local account, alias, plus-addressing and case are accepted', async () => {
    const c = await inTransaction();
    for (const rcpt of ['bob@ours.test', 'team@ours.test', 'bob+tag@ours.test', 'CAROL@OURS.TEST', 'Bob@Ours.Test']) {
      const r = await c.cmd(`RCPT TO:<${rcpt}>`);
      assert.equal(r.code, 250, `${rcpt}: ${r.text}`);
    }
    c.close();
  });

  test('postmaster, bare or at a domain of ours, is always accepted (RFC 5321 §4.1.1.3, §4.5.1)', async () => {
    const c = await inTransaction();
    for (const rcpt of [
      'postmaster',
      'PostMaster',
      'postmaster@ours.test',
      'POSTMASTER@Ours.Test',
      '"postmaster"@ours.test',
    ]) {
      const r = await c.cmd(`RCPT TO:<${rcpt}>`);
      assert.equal(r.code, 250, `${rcpt}: ${r.text}`);
    }
    // a domain with no account yet has nowhere to put it: try again later, never 550
    const r = await c.cmd('RCPT TO:<postmaster@empty.test>');
    assert.equal(r.code, 451, r.text);
    assert.match(r.text, /^4\.3\.0 /);
    c.close();
  });

  test('unknown local user: 550 5.1.1', async () => {
    const c = await inTransaction();
    const r = await c.cmd('RCPT TO:<nobody@ours.test>');
    assert.equal(r.code, 550);
    assert.match(r.text, /^5\.1\.1 /);
    c.close();
  });

  test('never an open relay (RFC 5321 §3.6, Appendix C): 554 5.7.1 or a syntax error, never 250', async () => {
    const c = await inTransaction();
    const cases: [string, number, string?][] = [
      ['<user@elsewhere.test>', 554, '5.7.1'],
      ['<user@sub.ours.test>', 554, '5.7.1'],
      ['<@ours.test:user@elsewhere.test>', 554, '5.7.1'], // source route: ignored, so the path is elsewhere
      ['<@elsewhere.test,@ours.test:bob@ours.test>', 250], // the route is ignored, the mailbox is ours
      ['<user%elsewhere.test@ours.test>', 550, '5.1.1'], // %-hack: no routing meaning, an unknown local part
      ['<elsewhere.test!user@ours.test>', 550, '5.1.1'], // bang path
      ['<ours.test!user@elsewhere.test>', 554, '5.7.1'],
      ['<user@elsewhere.test@ours.test>', 501], // two '@'
      ['<"user@elsewhere.test"@ours.test>', 501], // quoted '@'
      ['<"bob"@ours.test>', 250], // RFC 5321 §4.1.2: the same mailbox as bob@ours.test
      ['<user@elsewhere.test.>', 501], // trailing dot
      ['<bob@ours.test.>', 501],
      ['<user@[127.0.0.1]>', 554, '5.7.1'], // address literal
      ['<user@[IPv6:::1]>', 554, '5.7.1'],
      ['<USER@ELSEWHERE.TEST>', 554, '5.7.1'],
      ['<user@localhost>', 554, '5.7.1'],
      ['user@elsewhere.test', 501], // no angle brackets
    ];
    for (const [path, code, enhanced] of cases) {
      const r = await c.cmd(`RCPT TO:${path}`);
      assert.equal(r.code, code, `${path}: ${r.code} ${r.text}`);
      if (enhanced) assert.ok(r.text.startsWith(`${enhanced} `), `${path}: ${r.text}`);
    }
    c.close();
  });

  test('alias to a remote address: refused (forwarding is not supported yet), nothing silently dropped', async () => {
    const c = await inTransaction();
    const r = await c.cmd('RCPT TO:<ext@ours.test>');
    assert.equal(r.code, 550);
    assert.match(r.text, /^5\.3\.0 /);
    c.close();
  });

  test('recipient over quota: 452 4.2.2 (RFC 5321 §4.5.3.1.10)', async () => {
    assert.equal(
      (
        await sendMail(port, {
          from: 'alice@sender.test',
          to: ['full@ours.test'],
          data: simpleMessage({ body: `${'x'.repeat(1200)}\r\n` }),
        })
      ).code,
      250,
    );
    const c = await inTransaction();
    const r = await c.cmd('RCPT TO:<full@ours.test>');
    assert.equal(r.code, 452);
    assert.match(r.text, /^4\.2\.2 /);
    c.close();
  });

  test('too many recipients: 452 4.5.3 after 100 (RFC 5321 §4.5.3.1.10), pipelined', async () => {
    const c = await inTransaction();
    let batch = '';
    for (let i = 0; i < 101; i++) batch += `RCPT TO:<bob+${i}@ours.test>\r\n`;
    c.write(batch);
    for (let i = 0; i < 100; i++) assert.equal((await c.reply()).code, 250, `rcpt ${i}`);
    const last = await c.reply();
    assert.equal(last.code, 452);
    assert.match(last.text, /^4\.5\.3 /);
    c.close();
  });

  test('non-ASCII addresses need SMTPUTF8 (RFC 6531 §3.5): 553 5.6.7 without it', async () => {
    const c = await inTransaction();
    const r = await c.cmd('RCPT TO:<jürgen@ours.test>');
    assert.equal(r.code, 553);
    assert.match(r.text, /^5\.6\.7 /);
    c.close();
    const { c: d } = await RawSmtp.greet(port);
    await d.cmd('EHLO client.example');
    assert.equal((await d.cmd('MAIL FROM:<jürgen@sender.test>')).code, 553);
    c.close();
    d.close();
  });
});

describe('command errors (RFC 5321 §4.2.4, §4.3.2)', () => {
  test('500 unknown, 501 bad arguments, 503 bad sequence', async () => {
    const { c } = await RawSmtp.greet(port);
    assert.equal((await c.cmd('MAIL FROM:<a@sender.test>')).code, 503); // before EHLO
    assert.equal((await c.cmd('EHLO')).code, 501);
    assert.equal((await c.cmd('EHLO client.example')).code, 250);
    assert.equal((await c.cmd('FROBNICATE')).code, 500);
    assert.equal((await c.cmd('RCPT TO:<bob@ours.test>')).code, 503); // before MAIL
    assert.equal((await c.cmd('DATA')).code, 503); // before RCPT
    assert.equal((await c.cmd('MAIL FROM:<not an address')).code, 501);
    assert.equal((await c.cmd('MAIL FROM:<a@sender.test> SIZE=abc')).code, 501);
    assert.equal((await c.cmd('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await c.cmd('MAIL FROM:<a@sender.test>')).code, 503); // nested
    assert.equal((await c.cmd('RCPT TO:<>')).code, 501);
    assert.equal((await c.cmd('RSET')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 503);
    c.close();
  });

  test('too many errors: 421 4.7.0 and the connection is closed', async () => {
    const c = await inTransaction();
    let last = { code: 0, text: '' };
    for (let i = 0; i < 19; i++) last = await c.cmd(`RCPT TO:<probe${i}@ours.test>`);
    assert.equal(last.code, 550);
    const twentieth = await c.cmd('RCPT TO:<probe19@ours.test>');
    assert.equal(twentieth.code, 550);
    const bye = await c.reply();
    assert.equal(bye.code, 421);
    assert.match(bye.text, /^4\.7\.0 /);
    assert.equal(await c.waitClosed(), true);
  });

  test('a command line over the limit (RFC 5321 §4.5.3.1.4) ends the session; others are served meanwhile', async () => {
    const { c } = await RawSmtp.greet(port);
    c.write(`EHLO ${'a'.repeat(5000)}\r\n`);
    const r = await c.reply();
    assert.equal(r.code, 421);
    assert.equal(await c.waitClosed(), true);
    assert.equal(
      (await sendMail(port, { from: 'alice@sender.test', to: ['bob@ours.test'], data: simpleMessage() })).code,
      250,
    );
  });
});

describe('DATA', () => {
  test('delivered bytes are what was sent plus our trace headers (RFC 5321 §4.4)', async () => {
    const text = simpleMessage({ subject: 'trace check' });
    const r = await sendMail(port, { from: 'alice@sender.test', to: ['carol@ours.test'], data: text });
    assert.equal(r.code, 250);
    assert.match(r.text, /^2\.0\.0 /);
    const copy = (await tg.messages('carol@ours.test')).find((m) => m.bytes.includes('trace check'))!;
    const { ours, text: delivered } = splitDelivered(copy.bytes, copy.meta);
    assert.equal(delivered.toString(), text);
    assert.match(ours, /^Return-Path: <alice@sender\.test>\r\nDelivered-To: carol@ours\.test\r\n/);
    assert.match(ours, /Authentication-Results: mx\.test\.example;/);
    assert.match(ours, /X-Spam-Status: No/);
    assert.match(
      ours,
      /Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example \(Postern\) with ESMTP id \w+\r\n\tfor <carol@ours\.test>;\r\n\t\w{3}, /,
    );
    assert.equal(copy.meta.size, copy.bytes.length);
  });

  test('several recipients: one copy per account, each with its own Delivered-To; an alias counts once', async () => {
    const text = simpleMessage({ subject: 'fan out' });
    const r = await sendMail(port, {
      from: 'alice@sender.test',
      to: ['team@ours.test', 'bob@ours.test', 'carol+x@ours.test'],
      data: text,
    });
    assert.equal(r.code, 250);
    for (const who of ['bob@ours.test', 'carol@ours.test']) {
      const copies = (await tg.messages(who)).filter((m) => m.bytes.includes('Subject: fan out'));
      assert.equal(copies.length, 1, who);
      assert.match(copies[0].meta.headerPrefix, new RegExp(`Delivered-To: ${who}\\r\\n`));
      assert.equal(splitDelivered(copies[0].bytes, copies[0].meta).text.toString(), text);
    }
    const carol = (await tg.messages('carol@ours.test')).find((m) => m.bytes.includes('Subject: fan out'))!;
    assert.match(carol.meta.headerPrefix, /X-Original-To: team@ours\.test\r\n/);
  });

  test('dot-unstuffing is byte-exact (RFC 5321 §4.5.2), however the lines are split into packets', async () => {
    const body = '.\r\n..\r\n...\r\n.leading\r\n..double\r\n.\r\n \r\n.end\r\n';
    const text = simpleMessage({ subject: 'dots', body });
    const stuffed = dotStuff(text);
    for (const segment of [1, 2, 3, 7, 4096]) {
      const c = await inTransaction();
      await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
      await expectCode(c.cmd('DATA'), 354);
      const all = Buffer.concat([stuffed, Buffer.from('.\r\n')]);
      for (let i = 0; i < all.length; i += segment) {
        c.write(all.subarray(i, i + segment));
        if (segment < 10) await new Promise((r) => setImmediate(r));
      }
      const r = await c.reply();
      assert.equal(r.code, 250, `segment ${segment}: ${r.text}`);
      c.close();
    }
    const copies = (await tg.messages('bob@ours.test')).filter((m) => m.bytes.includes('Subject: dots'));
    assert.equal(copies.length, 1, 'the same text from the same sender is one message (idempotency key)');
    assert.equal(splitDelivered(copies[0].bytes, copies[0].meta).text.toString(), text);
  });

  // SMTP smuggling (SEC Consult, 2023): only <CRLF>.<CRLF> ends the text; bare CR/LF/NUL refuse the message
  const patterns: [string, string][] = [
    ['<LF>.<LF>', '\n.\n'],
    ['<LF>.<CR><LF>', '\n.\r\n'],
    ['<CR>.<CR><LF>', '\r.\r\n'],
    ['<CR><LF>.<CR>', '\r\n.\r'],
    ['<CR><LF>NUL.<CR><LF>', '\r\n\x00.\r\n'],
  ];
  for (const [name, seq] of patterns) {
    test(`smuggling pattern ${name} cannot split one message into two`, async () => {
      const c = await inTransaction('alice@sender.test');
      await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
      await expectCode(c.cmd('DATA'), 354);
      const smuggled =
        'MAIL FROM:<admin@ours.test>\r\nRCPT TO:<carol@ours.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n';
      c.write(`Subject: carrier ${name}\r\n\r\nhello${seq}${smuggled}.\r\n`);
      const r = await c.reply();
      assert.equal(r.code, 550, r.text);
      assert.match(r.text, /^5\.6\.0 /);
      // exactly one reply for the whole DATA: the session is back in command state, nothing else was run
      const next = await c.cmd('NOOP');
      assert.equal(next.code, 250, `${next.code} ${next.text} (unread: ${JSON.stringify(c.unread)})`);
      assert.equal(c.unread, '');
      c.close();
      for (const who of ['bob@ours.test', 'carol@ours.test']) {
        const all = await tg.messages(who);
        assert.ok(!all.some((m) => m.bytes.includes('smuggled') || m.bytes.includes(`carrier ${name}`)), who);
      }
    });
  }

  test('a message over SIZE: 552 5.3.4 at MAIL FROM (RFC 1870) and when the text is too long', async () => {
    const small = await startMxGateway({ env: { POSTERN_MAX_MESSAGE_SIZE: String(64 * 1024) } });
    await small.addAccount('bob@ours.test', 'pw');
    const { c } = await RawSmtp.greet(small.port('smtp'));
    await c.cmd('EHLO client.example');
    const declared = await c.cmd(`MAIL FROM:<alice@sender.test> SIZE=${64 * 1024 + 1}`);
    assert.equal(declared.code, 552);
    assert.match(declared.text, /^5\.3\.4 /);
    await expectCode(c.cmd('MAIL FROM:<alice@sender.test>'), 250);
    await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write(dotStuff(simpleMessage({ body: `${'y'.repeat(70)}\r\n`.repeat(1000) })));
    c.write('.\r\n');
    const r = await c.reply();
    assert.equal(r.code, 552);
    assert.match(r.text, /^5\.3\.4 /);
    assert.equal((await c.cmd('NOOP')).code, 250);
    c.close();
    assert.equal((await small.messages('bob@ours.test')).length, 0);
  });

  test('too many Received headers: 554 5.4.6 (RFC 5321 §6.3)', async () => {
    const hops = 'Received: from a.example by b.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(101);
    const r = await sendMail(port, { from: 'alice@sender.test', to: ['bob@ours.test'], data: hops + simpleMessage() });
    assert.equal(r.code, 554);
    assert.match(r.text, /^5\.4\.6 /);
    const ok = 'Received: from a.example by b.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(99);
    assert.equal(
      (await sendMail(port, { from: 'alice@sender.test', to: ['bob@ours.test'], data: ok + simpleMessage() })).code,
      250,
    );
  });

  test('a line over the limit in the text: 500 5.5.2', async () => {
    const r = await sendMail(port, {
      from: 'alice@sender.test',
      to: ['bob@ours.test'],
      data: simpleMessage({ body: `${'z'.repeat(70_000)}\r\n` }),
    });
    assert.equal(r.code, 500);
    assert.match(r.text, /^5\.5\.2 /);
  });

  test('DMARC p=reject failure is refused at SMTP time: 550 5.7.1', async () => {
    // envelope from a domain whose SPF fails, header From in sender.test (p=reject), no DKIM: not aligned
    const r = await sendMail(port, {
      from: 'spoof@nodmarc.test',
      to: ['bob@ours.test'],
      data: simpleMessage({ subject: 'spoofed' }),
    });
    assert.equal(r.code, 550);
    assert.match(r.text, /^5\.7\.1 /);
    assert.ok(!(await tg.messages('bob@ours.test')).some((m) => m.bytes.includes('Subject: spoofed')));
  });

  test('DKIM-signed mail from elsewhere passes DMARC; a quarantine failure goes to Junk with X-Spam headers', async () => {
    const signed = await dkimSignTest(simpleMessage({ subject: 'signed' }));
    assert.equal(
      (await sendMail(port, { from: 'bounce@nodmarc.test', to: ['bob@ours.test'], data: signed })).code,
      250,
    );
    const inbox = (await tg.messages('bob@ours.test')).find((m) => m.bytes.includes('Subject: signed'))!;
    assert.match(inbox.meta.headerPrefix, /dkim=pass header\.i=@sender\.test/);
    assert.match(inbox.meta.headerPrefix, /dmarc=pass/);
    assert.equal(splitDelivered(inbox.bytes, inbox.meta).text.toString(), signed);

    const q = simpleMessage({ from: 'q@quarantine.test', subject: 'quarantined' });
    assert.equal((await sendMail(port, { from: 'q@quarantine.test', to: ['bob@ours.test'], data: q })).code, 250);
    const junk = (await tg.messages('bob@ours.test', 'Junk')).find((m) => m.bytes.includes('Subject: quarantined'))!;
    assert.ok(junk, 'delivered to Junk');
    assert.match(junk.meta.headerPrefix, /X-Spam-Flag: YES\r\n/);
    assert.match(junk.meta.headerPrefix, /dmarc=fail/);
  });

  test('a forged Authentication-Results with our authserv-id is removed (RFC 8601 §5)', async () => {
    const forged = `Authentication-Results: mx.test.example; dkim=pass header.d=bank.test\r\n${simpleMessage({ subject: 'forged ar' })}`;
    assert.equal((await sendMail(port, { from: 'alice@sender.test', to: ['bob@ours.test'], data: forged })).code, 250);
    const copy = (await tg.messages('bob@ours.test')).find((m) => m.bytes.includes('Subject: forged ar'))!;
    assert.ok(!copy.bytes.includes('bank.test'));
  });

  test('PIPELINING (RFC 2920): a whole transaction in one write, replies in order', async () => {
    const { c } = await RawSmtp.greet(port);
    await expectCode(c.cmd('EHLO client.example'), 250);
    const text = simpleMessage({ subject: 'pipelined' });
    c.write(
      Buffer.concat([
        Buffer.from(
          'MAIL FROM:<alice@sender.test>\r\nRCPT TO:<bob@ours.test>\r\nRCPT TO:<nobody@ours.test>\r\nRCPT TO:<carol@ours.test>\r\nDATA\r\n',
        ),
      ]),
    );
    assert.deepEqual(
      [
        (await c.reply()).code,
        (await c.reply()).code,
        (await c.reply()).code,
        (await c.reply()).code,
        (await c.reply()).code,
      ],
      [250, 250, 550, 250, 354],
    );
    c.write(Buffer.concat([dotStuff(text), Buffer.from('.\r\nMAIL FROM:<alice@sender.test>\r\nQUIT\r\n')]));
    assert.equal((await c.reply()).code, 250);
    assert.equal((await c.reply()).code, 250);
    assert.equal((await c.reply()).code, 221);
    c.close();
  });

  test('8BITMIME and SMTPUTF8 messages are delivered byte for byte (RFC 6152, RFC 6531)', async () => {
    const text = simpleMessage({
      from: 'Jürgen <jürgen@sender.test>',
      to: 'jürgen@ours.test',
      subject: 'Grüße aus Köln ☕',
      extra: 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n',
      body: 'Ünïcödé bödy — 日本語\r\n',
    });
    const { c } = await RawSmtp.greet(port);
    await c.cmd('EHLO client.example');
    await expectCode(c.cmd('MAIL FROM:<jürgen@sender.test> BODY=8BITMIME SMTPUTF8'), 250);
    await expectCode(c.cmd('RCPT TO:<jürgen@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write(dotStuff(text));
    c.write('.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const [copy] = await tg.messages('jürgen@ours.test');
    assert.equal(splitDelivered(copy.bytes, copy.meta).text.toString('utf8'), text);
    assert.match(copy.bytes.toString('utf8'), /with UTF8SMTP id/);
    assert.equal((copy.meta.summary as { headers: { subject: string } }).headers.subject, 'Grüße aus Köln ☕');
  });

  test('NOTIFY=SUCCESS for a mailbox of ours: the remote sender gets one "delivered" DSN through the queue (RFC 3461 §5.2.2)', async () => {
    const send = async () => {
      const c = await inTransaction('receipt@sender.test', ' RET=HDRS ENVID=abc123');
      assert.equal(
        (await c.cmd('RCPT TO:<bob@ours.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@ours.test')).code,
        250,
      );
      assert.equal((await c.cmd('RCPT TO:<carol@ours.test> NOTIFY=NEVER')).code, 250);
      assert.equal((await c.cmd('DATA')).code, 354);
      c.write(
        'From: receipt@sender.test\r\nSubject: dsn receipt\r\nMessage-ID: <receipt.1@sender.test>\r\n\r\nbody\r\n.\r\n',
      );
      assert.equal((await c.reply()).code, 250);
      c.close();
    };
    await send();
    await send(); // the client's retry of the same text: one copy each, one report
    const reports = [];
    for await (const e of tg.storage.queue.list()) {
      if (e.mailFrom === '' && e.recipients.some((r) => r.address === 'receipt@sender.test')) reports.push(e);
    }
    assert.equal(reports.length, 1, 'one report, to the envelope sender, from the null sender');
    const chunks: Buffer[] = [];
    for await (const chunk of await tg.storage.blobs.get(reports[0].blobKey)) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(text, /Original-Envelope-Id: abc123/);
    assert.match(text, /Final-Recipient: rfc822;bob@ours\.test\r\nAction: delivered\r\nStatus: 2\.0\.0/);
    assert.doesNotMatch(text, /Final-Recipient: rfc822;carol@ours\.test/, 'NOTIFY=NEVER: nothing about carol');
    assert.match(text, /Message-ID: <receipt\.1@sender\.test>/, 'the header section comes back (RET=HDRS)');
  });

  test('no "delivered" report for mail filed as junk: a forged sender gets no backscatter', async () => {
    const c = await inTransaction('q@quarantine.test');
    assert.equal((await c.cmd('RCPT TO:<bob@ours.test> NOTIFY=SUCCESS')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    c.write(dotStuff(simpleMessage({ from: 'q@quarantine.test', subject: 'junk receipt' })));
    c.write('.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const junk = (await tg.messages('bob@ours.test', 'Junk')).filter((m) => m.bytes.includes('Subject: junk receipt'));
    assert.equal(junk.length, 1, 'filed as junk');
    for await (const e of tg.storage.queue.list()) {
      assert.ok(!e.recipients.some((r) => r.address === 'q@quarantine.test'), 'no report to the (forged) sender');
    }
  });

  test('STARTTLS (RFC 3207): the session starts over inside TLS, the Received header says ESMTPS', async () => {
    const { c } = await RawSmtp.greet(port);
    await c.cmd('EHLO client.example');
    assert.equal((await c.cmd('STARTTLS')).code, 220);
    c.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: c.socket, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    const lines: string[] = [];
    let buf = '';
    const read = () =>
      new Promise<string>((resolve) => {
        const tryTake = () => {
          const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf);
          if (m) {
            const out = buf;
            buf = '';
            secure.off('data', onData);
            resolve(out);
          }
        };
        const onData = (d: Buffer) => {
          buf += d.toString('utf8');
          tryTake();
        };
        secure.on('data', onData);
        tryTake();
      });
    secure.write('EHLO client.example\r\n');
    const ehlo = await read();
    assert.ok(!ehlo.includes('STARTTLS'), 'STARTTLS is not offered again');
    const text = simpleMessage({ subject: 'over tls' });
    secure.write('MAIL FROM:<alice@sender.test>\r\n');
    lines.push(await read());
    secure.write('RCPT TO:<bob@ours.test>\r\n');
    lines.push(await read());
    secure.write('DATA\r\n');
    lines.push(await read());
    secure.write(Buffer.concat([dotStuff(text), Buffer.from('.\r\n')]));
    lines.push(await read());
    assert.deepEqual(
      lines.map((l) => l.slice(0, 3)),
      ['250', '250', '354', '250'],
    );
    secure.destroy();
    const copy = (await tg.messages('bob@ours.test')).find((m) => m.bytes.includes('Subject: over tls'))!;
    assert.match(copy.bytes.toString(), /with ESMTPS id \w+\r\n\t\(using TLSv1\.[23] with cipher /);
  });
});

describe('sessions and abuse limits', () => {
  test('command timeout (RFC 5321 §4.5.3.2): an idle client gets 421 and is disconnected', async () => {
    const { c } = await RawSmtp.greet(lport);
    await c.cmd('EHLO client.example');
    const r = await c.reply(5000);
    assert.equal(r.code, 421);
    assert.equal(await c.waitClosed(), true);
  });

  test('data timeout: a client that stops sending text gets 421; nothing is stored', async () => {
    const { c } = await RawSmtp.greet(lport);
    await c.cmd('EHLO client.example');
    await expectCode(c.cmd('MAIL FROM:<alice@sender.test>'), 250);
    await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write('Subject: stalled\r\n\r\nhalf a mess');
    const r = await c.reply(5000);
    assert.equal(r.code, 421);
    assert.equal(await c.waitClosed(), true);
    assert.equal((await limited.messages('bob@ours.test')).length, 0);
  });

  test('connections per client IP: one over the limit gets 421 4.7.0', async () => {
    const a = await RawSmtp.greet(lport);
    const b = await RawSmtp.greet(lport);
    const third = await RawSmtp.open(lport);
    const r = await third.reply();
    assert.equal(r.code, 421);
    assert.match(r.text, /^4\.7\.0 /);
    a.c.close();
    b.c.close();
    third.close();
  });

  test('a PROXY header on a listener without PROXY protocol is refused (554 5.7.0)', async () => {
    const header = buildProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '127.0.0.1', port: 25 });
    const c = await RawSmtp.open(port, '127.0.0.1', header);
    const r = await c.reply();
    assert.equal(r.code, 554, r.text);
    assert.match(r.text, /^5\.7\.0 /);
    assert.equal(await c.waitClosed(), true);
    const v1 = await RawSmtp.open(port, '127.0.0.1', Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 40000 25\r\n'));
    assert.equal((await v1.reply()).code, 554);
    v1.close();
  });

  test('PROXY protocol v2 (as the NLB sends it) gives the real client address', async () => {
    const proxied = await startMxGateway({ env: { POSTERN_PROXY_PROTOCOL: '1' } });
    await proxied.addAccount('bob@ours.test', 'pw');
    const pport = proxied.port('smtp');
    const header = buildProxyV2({ address: '203.0.113.9', port: 40000 }, { address: '10.0.0.1', port: 25 });
    const c = await RawSmtp.open(pport, '127.0.0.1', header);
    assert.equal((await c.reply()).code, 220);
    await c.cmd('EHLO relay.example');
    await expectCode(c.cmd('MAIL FROM:<someone@softfail.test>'), 250);
    await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write(dotStuff(simpleMessage({ from: 'someone@softfail.test', subject: 'via nlb' })));
    c.write('.\r\n');
    assert.equal((await c.reply()).code, 250);
    c.close();
    const [copy] = await proxied.messages('bob@ours.test');
    assert.match(copy.bytes.toString(), /Received: from relay\.example \(\[203\.0\.113\.9\]\)/);
    assert.match(copy.meta.headerPrefix, /client-ip=203\.0\.113\.9/);

    // without a header the connection is dropped; the balancer's LOCAL health check is closed quietly
    const bare = await RawSmtp.open(pport, '127.0.0.1', Buffer.from('EHLO sneaky.example\r\n'));
    assert.equal(await bare.waitClosed(), true);
    const local = Buffer.from(header);
    local[12] = 0x20; // version 2, command LOCAL
    const health = await RawSmtp.open(pport, '127.0.0.1', local.subarray(0, 16).fill(0, 14, 16));
    assert.equal(await health.waitClosed(), true);
  });

  test('one misbehaving client does not stop the others', async () => {
    // a slow client trickling a message and a flood of junk, while a normal client sends mail
    const slow = await inTransaction();
    await expectCode(slow.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(slow.cmd('DATA'), 354);
    const trickle = setInterval(() => slow.write('x'), 20);
    const junk = await RawSmtp.open(port);
    junk.write(Buffer.alloc(100_000, 0x41));
    const started = Date.now();
    const r = await sendMail(port, {
      from: 'alice@sender.test',
      to: ['carol@ours.test'],
      data: simpleMessage({ subject: 'still served' }),
    });
    clearInterval(trickle);
    assert.equal(r.code, 250);
    assert.ok(Date.now() - started < 5000);
    slow.close();
    junk.close();
  });
});
