/** The mailbox file codecs (lib/mailboxFormats): mboxrd entries and their reading back, Maildir names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linePieces } from '../../lib/mailboxFormats/lines.ts';
import {
  formatDovecotKeywords,
  mailboxOfFolder,
  mailboxOfMboxFile,
  maildirFolder,
  maildirInfo,
  marksFromFileName,
  mboxFileOf,
  parseDovecotKeywords,
} from '../../lib/mailboxFormats/maildir.ts';
import { flagsOf, marksOf } from '../../lib/mailboxFormats/marks.ts';
import { asctime, mboxEntry, parseAsctime, readMbox } from '../../lib/mailboxFormats/mbox.ts';

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(c);
  return Buffer.concat(out);
}

/** Hands a buffer over in chunks of `size` bytes, so pieces cross chunk boundaries. */
async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

const MESSAGE = Buffer.from(
  'Return-Path: <alice@example.com>\r\nFrom: Alice <alice@example.com>\r\nStatus: RO\r\nX-Keywords: stale\r\n' +
    '  folded\r\nSubject: hi\r\n\r\nFrom the start\r\n>From quoted once\r\n>>From twice\r\n\r\nbare\rCR\r\n\r\n',
);
const STORED = Buffer.from(
  'Return-Path: <alice@example.com>\r\nFrom: Alice <alice@example.com>\r\nSubject: hi\r\n\r\nFrom the start\r\n' +
    '>From quoted once\r\n>>From twice\r\n\r\nbare\rCR\r\n\r\n',
);

describe('mboxrd', () => {
  it('asctime is the From_ line date in UTC and parses back', () => {
    const ms = Date.UTC(2026, 11, 2, 6, 5, 4);
    assert.equal(asctime(ms), 'Wed Dec  2 06:05:04 2026');
    assert.equal(parseAsctime('From x Wed Dec  2 06:05:04 2026'), ms);
    assert.equal(parseAsctime('From x Wed Dec 02 07:05:04 +0100 2026'), ms);
    assert.equal(parseAsctime('From x sometime'), undefined);
  });

  it('quotes >*From lines, replaces state headers, and reads the message back byte for byte', async () => {
    const marks = marksOf(['\\Seen', '\\Flagged', '\\Draft', '$Label1', 'Junk']);
    const date = Date.UTC(2020, 0, 31, 23, 59, 58);
    for (const size of [1, 7, 4096]) {
      const file = await collect(mboxEntry({ internalDate: date, marks }, chunked(MESSAGE, size)));
      const text = file.toString('latin1');
      assert.match(text, /^From alice@example\.com Fri Jan 31 23:59:58 2020\n/);
      assert.match(
        text,
        /\nSubject: hi\nStatus: RO\nX-Status: FT\nX-Keywords: \$Label1 Junk\n\n>From the start\n>>From quoted once\n>>>From twice\n/,
      );
      assert.doesNotMatch(text, /stale|folded|\r\n/);
      const two = Buffer.concat([file, file]);
      const read: { body: Buffer; flags: string[]; date?: number }[] = [];
      for await (const m of readMbox(chunked(two, size))) {
        const body = await collect(m.body);
        read.push({ body, flags: flagsOf(m.marks()), date: m.internalDate });
      }
      assert.equal(read.length, 2);
      for (const r of read) {
        assert.equal(r.body.toString('latin1'), STORED.toString('latin1'));
        assert.deepEqual(r.flags, ['\\Seen', '\\Flagged', '\\Draft', '$Label1', 'Junk']);
        assert.equal(r.date, date);
      }
    }
  });

  it('refuses a file that does not start with a From_ line', async () => {
    await assert.rejects(async () => {
      for await (const _ of readMbox(chunked(Buffer.from('Subject: x\n\nbody\n'), 100)));
    }, /not an mbox file/);
  });

  it('a skipped body does not leak into the next message', async () => {
    const file = Buffer.from(
      'From a Mon Jan  1 00:00:00 2024\nSubject: one\n\nx\n\nFrom b Mon Jan  1 00:00:00 2024\nSubject: two\n\ny\n',
    );
    const senders: string[] = [];
    for await (const m of readMbox(chunked(file, 3))) senders.push(m.sender);
    assert.deepEqual(senders, ['a', 'b']);
  });

  it('line pieces of a long line stay bounded and never split CRLF', async () => {
    const long = Buffer.concat([Buffer.alloc(9, 'a'), Buffer.from('\r\nz\n')]);
    const pieces = [];
    for await (const p of linePieces(chunked(long, 2), 4)) pieces.push(p);
    assert.ok(pieces.every((p) => p.bytes.length <= 4));
    assert.equal(Buffer.concat(pieces.map((p) => p.bytes)).toString(), long.toString());
    assert.ok(pieces.some((p) => p.bytes.toString() === '\r\n' || p.bytes.toString().endsWith('a\r\n')));
  });
});

describe('Maildir', () => {
  it('flag letters in ASCII order, keywords as dovecot-keywords letters', () => {
    const marks = marksOf(['\\Seen', '\\Deleted', '\\Answered', '\\Flagged', '\\Draft', 'work', '$Forwarded']);
    const table = ['$Forwarded', 'work'];
    const info = maildirInfo(marks, new Map(table.map((k, i) => [k, i])));
    assert.equal(info, ':2,DFRSTab');
    const back = marksFromFileName(`123.M1P2.host${info}`, parseDovecotKeywords(formatDovecotKeywords(table)));
    assert.deepEqual(flagsOf(back), [
      '\\Seen',
      '\\Answered',
      '\\Flagged',
      '\\Deleted',
      '\\Draft',
      '$Forwarded',
      'work',
    ]);
    assert.deepEqual(flagsOf(marksFromFileName('123.M1P2.host', table)), []);
  });

  it('Maildir++ folder names and mbox tree names go both ways and never climb out', () => {
    for (const name of ['Sent', 'Lists/rust', 'Ünïcode/日本', 'v1.2', '..', '100%', '.hidden/x']) {
      const folder = maildirFolder(name);
      assert.ok(!folder.includes('/') && folder.startsWith('.') && folder !== '.' && folder !== '..', folder);
      assert.equal(mailboxOfFolder(folder), name);
      const file = mboxFileOf(name);
      assert.ok(!file.split('/').some((l) => l === '..' || l === '.'), file);
      assert.equal(mailboxOfMboxFile(file), name);
    }
    assert.equal(maildirFolder('INBOX'), '');
    assert.equal(maildirFolder('Lists/rust'), '.Lists.rust');
  });
});
