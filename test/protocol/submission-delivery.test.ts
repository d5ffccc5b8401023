/**
 * What a submitted message becomes (RFC 6409): local recipients' copies at once, remote recipients in the
 * outbound queue (an in-memory double of the port, test/support/memoryQueue.ts) with their DSN parameters;
 * Date and Message-ID added when missing; the account sends only as its own addresses; its limits; and
 * exactly once when the enqueue or the store fails and the client retries. Raw SMTP over TCP on 587 (this
 * gateway allows plaintext AUTH on loopback, as the emulator does; TLS is covered by submission-auth and
 * submission-clients).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Invoker } from '../../lib/core/ports.ts';
import { parseWithPython } from '../support/dsnCheck.ts';
import { dotStuff, RawSmtp, type SmtpReply } from './smtp-helpers.ts';
import { BOB, CAROL, message, python, startSubmissionGateway } from './submission-support.ts';

/** Store invocations to fail (each failure is one whole invocation, as a crashed Lambda). */
let failStores = 0;
const faulty = (inner: Invoker): Invoker => ({
  invoke: async (fn, payload) => {
    if (fn === 'store' && failStores > 0) {
      failStores -= 1;
      throw new Error('injected store failure');
    }
    return inner.invoke(fn, payload);
  },
});
const { tg, queue } = await startSubmissionGateway({ wrapInvoker: faulty });
const port = tg.port('submission');

const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** EHLO and AUTH PLAIN as `who`; the session is ready for MAIL. */
async function session(who = BOB, p = port): Promise<RawSmtp> {
  const { c } = await RawSmtp.greet(p);
  assert.equal((await c.cmd('EHLO client.example')).code, 250);
  assert.equal((await c.cmd(`AUTH PLAIN ${plain(who.address, who.password)}`)).code, 235);
  return c;
}

/** One transaction; the first reply that is not a success, or the reply to the final dot. */
async function submit(opts: {
  from?: string;
  mailParams?: string;
  to: string[];
  text: string;
  who?: typeof BOB;
  port?: number;
}): Promise<SmtpReply> {
  const c = await session(opts.who, opts.port);
  try {
    const mail = await c.cmd(`MAIL FROM:<${opts.from ?? BOB.address}>${opts.mailParams ?? ''}`);
    if (mail.code !== 250) return mail;
    for (const to of opts.to) {
      const rcpt = await c.cmd(`RCPT TO:${to.startsWith('<') ? to : `<${to}>`}`);
      if (rcpt.code !== 250) return rcpt;
    }
    const data = await c.cmd('DATA');
    if (data.code !== 354) return data;
    c.write(dotStuff(opts.text));
    c.write('.\r\n');
    return await c.reply(30_000);
  } finally {
    c.close();
  }
}

const copiesOf = async (who: string, marker: string) =>
  (await tg.messages(who)).filter((m) => m.bytes.includes(marker));
const entriesOf = (marker: string) =>
  queue.all().filter((e) => e.recipients.some((r) => r.address.includes(marker)) || e.headerPrefix.includes(marker));

describe('local and remote recipients', () => {
  test('a local recipient gets its copy in INBOX at once, Date and Message-ID added (RFC 6409 §8.2, §8.3)', async () => {
    const text = message({ to: CAROL.address, subject: 'local-1' });
    const reply = await submit({ to: [CAROL.address], text });
    assert.equal(reply.code, 250, reply.text);
    const [copy, ...more] = await copiesOf(CAROL.address, 'local-1');
    assert.equal(more.length, 0);
    assert.match(copy.meta.headerPrefix, /^Return-Path: <bob@ours\.test>\r\nDelivered-To: carol@ours\.test\r\n/);
    assert.match(copy.meta.headerPrefix, /\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    assert.match(copy.meta.headerPrefix, /\r\nMessage-ID: <[0-9a-f]{32}@mx\.test\.example>\r\n$/);
    assert.match(copy.bytes.toString(), /with ESMTPA id/, 'RFC 3848: the Received field says authenticated');
    // and what a mail client reads over POP3
    const out = await python(
      `
import poplib
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
out['msg'] = b'\\r\\n'.join(p.retr(1)[1]).decode()
p.quit()
`,
      String(tg.port('pop3')),
      CAROL.address,
      CAROL.password,
    );
    assert.match(out.msg as string, /^Message-ID: <[0-9a-f]{32}@mx\.test\.example>$/m);
    assert.match(out.msg as string, /^Subject: local-1$/m);
    // and IMAP's ENVELOPE (from the index, not the bytes) shows the added fields too
    const imap = await python(
      `
import imaplib
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3]); m.select('INBOX')
typ, data = m.search(None, 'HEADER', 'Subject', 'local-1')
typ, env = m.fetch(data[0].split()[-1], '(ENVELOPE)')
out['env'] = env[0].decode()
m.logout()
`,
      String(tg.port('imap')),
      CAROL.address,
      CAROL.password,
    );
    const messageId = /\r\nMessage-ID: (<[^>]+>)\r\n/.exec(copy.meta.headerPrefix)![1];
    const date = /\r\nDate: ([^\r]+)\r\n/.exec(copy.meta.headerPrefix)![1];
    assert.ok((imap.env as string).includes(`"${messageId}"`), imap.env as string);
    assert.ok((imap.env as string).includes(`ENVELOPE ("${date}" "local-1"`), imap.env as string);
  });

  test('Date and Message-ID the client wrote are kept, nothing added', async () => {
    const text = message({ to: CAROL.address, subject: 'local-kept', date: true, messageId: 'kept.1@ours.test' });
    assert.equal((await submit({ to: [CAROL.address], text })).code, 250);
    const [copy] = await copiesOf(CAROL.address, 'local-kept');
    assert.equal(copy.meta.headerPrefix, 'Return-Path: <bob@ours.test>\r\nDelivered-To: carol@ours.test\r\n');
    assert.match(copy.bytes.toString(), /\r\nMessage-ID: <kept\.1@ours\.test>\r\n/);
  });

  test('remote recipients: one queue entry per domain with the DSN parameters (RFC 3461 §4)', async () => {
    const text = message({ subject: 'remote-1' });
    const reply = await submit({
      mailParams: ' RET=HDRS ENVID=env+2Bone',
      to: [
        '<r1@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r1@remote.example',
        '<R2@Remote.Example> NOTIFY=NEVER',
        'r3@other.example',
      ],
      text,
    });
    assert.equal(reply.code, 250, reply.text);
    const entries = queue.all().filter((e) => e.recipients.some((r) => /^r[123]@/i.test(r.address)));
    assert.equal(entries.length, 2);
    const remote = entries.find((e) => e.domain === 'remote.example')!;
    const other = entries.find((e) => e.domain === 'other.example')!;
    assert.deepEqual(
      remote.recipients.map(({ address, notify, orcpt }) => ({ address, notify, orcpt })),
      [
        { address: 'r1@remote.example', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;r1@remote.example' },
        { address: 'R2@remote.example', notify: [], orcpt: undefined },
      ],
    );
    assert.deepEqual(
      other.recipients.map((r) => [r.address, r.notify]),
      [['r3@other.example', undefined]],
    );
    for (const e of entries) {
      assert.equal(e.mailFrom, BOB.address);
      assert.equal(e.accountId, tg.accounts.get(BOB.address)!.accountId);
      assert.equal(e.envId, 'env+one');
      assert.equal(e.ret, 'HDRS');
      assert.match(e.headerPrefix, /^Date: .+\r\nMessage-ID: <[0-9a-f]{32}@mx\.test\.example>\r\n$/);
      const blobSize = await tg.storage.blobs.head(e.blobKey);
      assert.equal(e.size, Buffer.byteLength(e.headerPrefix) + blobSize!);
    }
    assert.equal(remote.blobKey, other.blobKey, 'one stored text for every domain');
  });

  test('a message to local and remote recipients: copies and queue entry from the same stored text', async () => {
    const text = message({ subject: 'mixed-1', date: true, messageId: 'mixed.1@ours.test' });
    assert.equal((await submit({ to: [CAROL.address, 'mixed1@remote.example'], text })).code, 250);
    const [copy] = await copiesOf(CAROL.address, 'mixed-1');
    const [entry] = entriesOf('mixed1@');
    assert.equal(copy.meta.blobKey, entry.blobKey);
    assert.equal(entry.headerPrefix, '');
  });
});

describe('delivered reports for local recipients (RFC 3461 §4.1, §6.2)', () => {
  test('NOTIFY=SUCCESS for a local recipient: the sender gets one "delivered" DSN, also when the client resends', async () => {
    const text = message({ to: CAROL.address, subject: 'notify-local-1', date: true, messageId: 'nl.1@ours.test' });
    const send = () =>
      submit({
        mailParams: ' ENVID=local+2Dreport',
        to: [`<${CAROL.address}> NOTIFY=SUCCESS ORCPT=rfc822;${CAROL.address}`],
        text,
      });
    assert.equal((await send()).code, 250);
    assert.equal((await send()).code, 250, 'the same text again: one copy, one report');
    assert.equal((await copiesOf(CAROL.address, 'notify-local-1')).length, 1);
    const reports = (await tg.messages(BOB.address)).filter((m) => m.bytes.includes('nl.1@ours.test'));
    assert.equal(reports.length, 1);
    const view = parseWithPython(reports[0].bytes);
    assert.equal(view.status[0]['Original-Envelope-Id'], 'local-report');
    assert.deepEqual(
      view.status.slice(1).map((b) => [b['Final-Recipient'], b['Original-Recipient'], b.Action, b.Status]),
      [[`rfc822;${CAROL.address}`, `rfc822;${CAROL.address}`, 'delivered', '2.0.0']],
    );
    assert.equal(reports[0].meta.headerPrefix.startsWith('Return-Path: <>'), true, 'sent with the null sender');
  });

  test('without NOTIFY=SUCCESS (the default is FAILURE,DELAY) no report is sent', async () => {
    const text = message({ to: CAROL.address, subject: 'notify-local-2', date: true, messageId: 'nl.2@ours.test' });
    assert.equal((await submit({ to: [`<${CAROL.address}> NOTIFY=FAILURE`], text })).code, 250);
    assert.equal((await copiesOf(CAROL.address, 'notify-local-2')).length, 1);
    assert.equal((await tg.messages(BOB.address)).filter((m) => m.bytes.includes('nl.2@ours.test')).length, 0);
  });
});

describe('exactly once when a step fails (a 451, then the client retries the same text)', () => {
  test('the enqueue fails: 451, the local copy is kept; the retry enqueues once and adds no second copy', async () => {
    const text = message({ subject: 'fault-queue', to: 'x' });
    const to = [CAROL.address, 'fq@remote.example'];
    queue.failNext(1);
    const first = await submit({ to, text });
    assert.equal(first.code, 451);
    assert.match(first.text, /^4\.3\.0 /);
    assert.equal(entriesOf('fq@').length, 0);
    assert.equal((await copiesOf(CAROL.address, 'fault-queue')).length, 1, 'the local target committed');
    const calls = queue.enqueueCalls;
    assert.equal((await submit({ to, text })).code, 250);
    assert.equal((await submit({ to, text })).code, 250, 'a third send of the same text is the same message');
    assert.equal(queue.enqueueCalls, calls + 2);
    assert.equal(entriesOf('fq@').length, 1);
    assert.equal((await copiesOf(CAROL.address, 'fault-queue')).length, 1);
  });

  test('the store fails every attempt: 451 with the entry queued; the retry stores once and enqueues nothing new', async () => {
    const text = message({ subject: 'fault-store', to: 'y' });
    const to = [CAROL.address, 'fs@remote.example'];
    failStores = tg.config.smtp.storeAttempts;
    const first = await submit({ to, text });
    assert.equal(first.code, 451);
    assert.equal(failStores, 0);
    assert.equal((await copiesOf(CAROL.address, 'fault-store')).length, 0);
    assert.equal(entriesOf('fs@').length, 1);
    assert.equal((await submit({ to, text })).code, 250);
    assert.equal((await copiesOf(CAROL.address, 'fault-store')).length, 1);
    assert.equal(entriesOf('fs@').length, 1);
  });
});

describe('the account sends only as its own addresses (553 5.7.1)', () => {
  const refused = (r: SmtpReply) => {
    assert.equal(r.code, 553, r.text);
    assert.match(r.text, /^5\.7\.1 /);
  };

  test('MAIL FROM another account, or an alias of someone else, or under a catch-all: refused', async () => {
    for (const from of [CAROL.address, 'carols@ours.test', 'anything@catch.test', 'bob@remote.example']) {
      refused(await submit({ from, to: ['n1@remote.example'], text: message() }));
    }
  });

  test('header From of someone else: refused after the text, nothing stored or queued', async () => {
    for (const from of [`Carol <${CAROL.address}>`, `bob@ours.test, carol@ours.test`, 'group: carols@ours.test;']) {
      const text = message({ from, subject: 'forged-from', to: 'x' });
      const reply = await submit({ to: [CAROL.address, 'forged@remote.example'], text });
      refused(reply);
      assert.match(reply.text, /From header/);
    }
    assert.equal((await copiesOf(CAROL.address, 'forged-from')).length, 0);
    assert.equal(entriesOf('forged@').length, 0);
  });

  test('no From field, or two (RFC 5322 §3.6: exactly one): 550 5.6.0', async () => {
    const none = 'To: x@remote.example\r\nSubject: no from\r\n\r\nbody\r\n';
    const two = `From: bob@ours.test\r\nFrom: carol@ours.test\r\nSubject: two\r\n\r\nbody\r\n`;
    for (const text of [none, two]) {
      const r = await submit({ to: ['n2@remote.example'], text });
      assert.equal(r.code, 550);
      assert.match(r.text, /^5\.6\.0 /);
    }
  });

  test('plus-addresses, aliases that deliver to the account (two levels), and the null sender are allowed', async () => {
    const cases = [
      { from: 'bob+lists@ours.test', header: 'Bob <bob+lists@ours.test>' },
      { from: 'team@ours.test', header: 'team+x@ours.test' },
      { from: 'crew@ours.test', header: 'Crew <crew@ours.test>' },
      { from: 'BOB@OURS.TEST', header: 'bob@ours.test' },
      { from: '', header: 'bob@ours.test' }, // an MDN (RFC 8098 §3) has the null sender
    ];
    for (const [i, { from, header }] of cases.entries()) {
      const text = message({ from: header, subject: `own-${i}`, to: 'x' });
      const reply = await submit({ from, to: [`own${i}@remote.example`], text });
      assert.equal(reply.code, 250, `${from} / ${header}: ${reply.text}`);
      assert.equal(entriesOf(`own${i}@`)[0].mailFrom, from);
    }
  });
});

describe('per-account limits (4xx)', async () => {
  const limited = await startSubmissionGateway({
    env: {
      POSTERN_SUBMISSION_MAX_RECIPIENTS: '2',
      POSTERN_SUBMISSION_MAX_MESSAGES_PER_HOUR: '2',
      POSTERN_SUBMISSION_MAX_HEADER_BYTES: '1024',
    },
  });
  const lport = limited.tg.port('submission');

  test('recipients per message: 452 4.5.3 past the limit (RFC 5321 §4.5.3.1.10)', async () => {
    const c = await session(CAROL, lport);
    assert.equal((await c.cmd('MAIL FROM:<carol@ours.test>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<a@remote.example>')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<b@remote.example>')).code, 250);
    const third = await c.cmd('RCPT TO:<c@remote.example>');
    assert.equal(third.code, 452);
    assert.match(third.text, /^4\.5\.3 /);
    c.close();
  });

  test('messages per hour: 451 4.7.1 at MAIL FROM once spent; other accounts unaffected', async () => {
    for (const i of [1, 2]) {
      const reply = await submit({
        to: [`rate${i}@remote.example`],
        text: message({ subject: `rate-${i}` }),
        port: lport,
      });
      assert.equal(reply.code, 250, reply.text);
    }
    const over = await submit({ to: ['rate3@remote.example'], text: message(), port: lport });
    assert.equal(over.code, 451);
    assert.match(over.text, /^4\.7\.1 /);
    const carol = await submit({
      who: CAROL,
      from: CAROL.address,
      to: ['rate4@remote.example'],
      text: message({ from: CAROL.address }),
      port: lport,
    });
    assert.equal(carol.code, 250);
  });

  test('a header block over the limit: 552 5.3.4, nothing kept', async () => {
    const text = message({ from: CAROL.address, subject: `big ${'x'.repeat(2000)}` });
    const r = await submit({ who: CAROL, from: CAROL.address, to: ['big@remote.example'], text, port: lport });
    assert.equal(r.code, 552);
    assert.match(r.text, /^5\.3\.4 /);
    assert.equal(limited.queue.all().filter((e) => e.recipients[0].address === 'big@remote.example').length, 0);
  });
});
