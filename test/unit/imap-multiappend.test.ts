/**
 * MULTIAPPEND (RFC 3502) and LITERAL+ (RFC 7888) over a real socket with real storage: several messages in
 * one APPEND are stored together or not at all (none visible, their blobs deleted), APPENDUID carries the
 * UID set (RFC 4315 §3), a command past the transaction limit is NO [LIMIT]; non-synchronising literals of
 * any size are taken, and refused ones are read and dropped (or end the connection when too large).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MAX_ATOMIC_APPEND } from '../../lib/core/ports.ts';
import { MESSAGE_PREFIX } from '../../lib/core/schema.ts';
import type { ImapClient } from '../protocol/imap-support.ts';
import { type ImapTestServer, imapTestServer } from './imap-test-server.ts';

let t: ImapTestServer;
let limited: ImapTestServer;
before(async () => {
  t = await imapTestServer();
  // APPENDLIMIT 1000 and a 3000-octet quota, for the refusals
  limited = await imapTestServer({ appendLimit: 1000 }, 3000);
});

const msg = (subject: string, size = 0) => `Subject: ${subject}\r\n\r\n${'x'.repeat(size)}body\r\n`;

async function imapBlobs(s: ImapTestServer): Promise<number> {
  let n = 0;
  for await (const b of s.storage.blobs.list(`${MESSAGE_PREFIX}imap-`)) if (b.key) n++;
  return n;
}

/** Sends an APPEND of several messages with synchronising literals, waiting for each `+`. */
async function multiAppend(c: ImapClient, tag: string, mailbox: string, parts: string[]): Promise<string> {
  c.send(`${tag} APPEND ${mailbox}`);
  for (const [i, p] of parts.entries()) {
    c.send(` ${i === 0 ? '(\\Seen) ' : '(\\Flagged $Job) "01-Feb-2024 10:00:00 +0000" '}{${Buffer.byteLength(p)}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(p);
  }
  c.send('\r\n');
  return c.line();
}

async function messages(s: ImapTestServer, name: string): Promise<number> {
  return (await s.storage.mail.getMailbox(s.account.accountId, name))!.messages;
}

describe('MULTIAPPEND (RFC 3502 §3)', () => {
  it('stores every message with its own flags and date; APPENDUID carries the UID set', async () => {
    await t.storage.mail.createMailbox(t.account.accountId, 'Multi');
    const box = (await t.storage.mail.getMailbox(t.account.accountId, 'Multi'))!;
    const c = await t.login();
    const status = await multiAppend(c, 'm1', 'Multi', [msg('one'), msg('two'), msg('three')]);
    assert.equal(status, `m1 OK [APPENDUID ${box.uidValidity} 1:3] APPEND completed`);
    await c.cmd('SELECT Multi');
    assert.deepEqual((await c.cmd('FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).untagged, [
      '* 1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: one\r\n\r\n)',
      '* 2 FETCH (FLAGS ($Job \\Flagged) BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: two\r\n\r\n)',
      '* 3 FETCH (FLAGS ($Job \\Flagged) BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: three\r\n\r\n)',
    ]);
    assert.deepEqual((await c.cmd('FETCH 2:3 (INTERNALDATE)')).untagged, [
      '* 2 FETCH (INTERNALDATE "01-Feb-2024 10:00:00 +0000")',
      '* 3 FETCH (INTERNALDATE "01-Feb-2024 10:00:00 +0000")',
    ]);
    // the non-synchronising form (LITERAL+) in one go
    const a = msg('four');
    const b = msg('five');
    c.send(`m2 APPEND Multi {${a.length}+}\r\n${a} {${b.length}+}\r\n${b}\r\n`);
    assert.equal((await c.until('m2')).status, `m2 OK [APPENDUID ${box.uidValidity} 4:5] APPEND completed`);
    c.destroy();
  });

  it('all or nothing: over the quota together, none is stored and every blob is deleted (NO [OVERQUOTA])', async () => {
    const c = await limited.login();
    const before = await imapBlobs(limited);
    // each fits the 3000-octet quota alone; the three together do not
    const status = await multiAppend(c, 'q1', 'INBOX', [msg('a', 900), msg('b', 900), msg('c', 900), msg('d', 900)]);
    assert.match(status, /^q1 NO \[OVERQUOTA\] /);
    assert.equal(await messages(limited, 'INBOX'), 0);
    await waitFor(async () => (await imapBlobs(limited)) === before, 'blobs deleted');
    assert.match(await multiAppend(c, 'q2', 'INBOX', [msg('a', 900), msg('b', 900)]), /^q2 OK \[APPENDUID \d+ 1:2\]/);
    c.destroy();
  });

  it('a later message refused (too big, bad syntax) leaves nothing and deletes the earlier uploads', async () => {
    const c = await limited.login();
    const stored = await messages(limited, 'Drafts');
    const before = await imapBlobs(limited);
    c.send(`r1 APPEND Drafts {${msg('ok').length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(`${msg('ok')} {5000}\r\n`);
    assert.match(await c.line(), /^r1 NO \[TOOBIG\] /);
    c.send(`r2 APPEND Drafts {${msg('ok').length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(`${msg('ok')} NOTALITERAL\r\n`);
    assert.match(await c.line(), /^r2 BAD /);
    assert.equal(await messages(limited, 'Drafts'), stored);
    await waitFor(async () => (await imapBlobs(limited)) === before, 'blobs deleted');
    assert.match((await c.cmd('NOOP')).status, /OK/);
    c.destroy();
  });

  it(`more than ${MAX_ATOMIC_APPEND} messages cannot commit together: NO [LIMIT] instead of the next +`, async () => {
    const c = await t.login();
    const parts = Array.from({ length: MAX_ATOMIC_APPEND }, (_, i) => msg(`n${i}`));
    c.send(`l1 APPEND Trash ${parts.map((p) => `{${p.length}+}\r\n${p}`).join(' ')} {10}\r\n`);
    assert.match(await c.line(), /^l1 NO \[LIMIT\] at most \d+ messages in one APPEND/);
    assert.equal(await messages(t, 'Trash'), 0);
    // the same through non-synchronising literals: read to the end, then refused
    c.send(`l2 APPEND Trash ${[...parts, msg('last')].map((p) => `{${p.length}+}\r\n${p}`).join(' ')}\r\n`);
    assert.match(await c.line(), /^l2 NO \[LIMIT\] /);
    assert.equal(await messages(t, 'Trash'), 0);
    assert.match((await c.cmd('NOOP')).status, /OK/);
    c.destroy();
  });
});

describe('LITERAL+ (RFC 7888 §4)', () => {
  it('takes a non-synchronising literal of any size, not just 4096 octets (LITERAL-)', async () => {
    const c = await t.login();
    const big = msg('big', 100_000);
    c.send(`p1 APPEND INBOX {${big.length}+}\r\n${big}\r\n`);
    assert.match(await c.line(), /^p1 OK \[APPENDUID \d+ \d+\]/);
    // in another command too: a mailbox name as a non-synchronising literal
    c.send('p2 STATUS {5+}\r\nINBOX (MESSAGES)\r\n');
    assert.match((await c.until('p2')).status, /^p2 OK/);
    c.destroy();
  });

  it('a refused one is read and dropped: NO [TOOBIG] and the connection goes on; far too large ends it (BYE)', async () => {
    const c = await limited.login();
    c.send(`t1 APPEND INBOX {1500+}\r\n${'y'.repeat(1500)}\r\nt2 NOOP\r\n`);
    assert.match(await c.line(), /^t1 NO \[TOOBIG\] /);
    assert.match(await c.line(), /^t2 OK /);
    // a non-APPEND literal over the inline limit: BAD, octets skipped
    c.send(`t3 LOGIN {20000+}\r\n${'z'.repeat(20000)} x\r\nt4 NOOP\r\n`);
    assert.match(await c.line(), /^t3 BAD /);
    assert.match(await c.line(), /^t4 OK /);
    c.send('t5 APPEND INBOX {900000000+}\r\n');
    assert.match(await c.line(), /^t5 NO \[TOOBIG\] /);
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
  });
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting: ${what}`);
}
