/**
 * One message delivered over SMTP, through the whole pipeline (route, filter, store with its summary),
 * read back by POP3 and by IMAP: both give the same octets, which are the stored copy's, and IMAP's
 * ENVELOPE and BODYSTRUCTURE come from the summary the store step kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imapflow } from './imap-support.ts';
import { poplib, retrieved } from './pop3-support.ts';
import { sendMail, simpleMessage, startMxGateway } from './smtp-helpers.ts';

const tg = await startMxGateway();
await tg.addAccount('reader@ours.test', 'pw reader');

const CRLF = Buffer.from('\r\n');

describe('IMAP and POP3 see the same delivered bytes', () => {
  it('a multipart message sent over SMTP: IMAP BODY[] equals POP3 RETR and the stored copy (RFC 9051 §6.4.5)', async () => {
    const data = simpleMessage({
      to: 'reader@ours.test',
      subject: 'both protocols',
      extra: 'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="zz"\r\n',
      body: '--zz\r\nContent-Type: text/plain\r\n\r\n.dot line\r\nplain\r\n--zz\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--zz--\r\n',
    });
    assert.equal(
      (await sendMail(tg.port('smtp'), { from: 'alice@sender.test', to: ['reader@ours.test'], data })).code,
      250,
    );
    const [stored] = await tg.messages('reader@ours.test');

    const pop = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', 'reader@ours.test'], ['pass_', 'pw reader'], ['retr', 1], ['quit']],
    });
    const { lines } = retrieved(pop.steps[2]);
    const popBytes = Buffer.concat(lines.flatMap((l) => [l, CRLF]));
    assert.deepEqual(popBytes, stored.bytes);

    const client = imapflow(tg.port('imap'), { user: 'reader@ours.test', pass: 'pw reader' }, 'plain');
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const msg = (await client.fetchOne('1', { source: true, envelope: true, bodyStructure: true })) || undefined;
        assert.deepEqual(msg?.source, stored.bytes);
        assert.equal(msg?.envelope?.subject, 'both protocols');
        assert.equal(msg?.bodyStructure?.type, 'multipart/alternative');
        assert.deepEqual(
          msg?.bodyStructure?.childNodes?.map((p) => p.type),
          ['text/plain', 'text/html'],
        );
        const part = await client.download('1', '1');
        const chunks: Buffer[] = [];
        for await (const c of part.content ?? []) chunks.push(c as Buffer);
        assert.equal(Buffer.concat(chunks).toString(), '.dot line\r\nplain');
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});
