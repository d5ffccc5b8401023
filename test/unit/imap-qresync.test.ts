/**
 * QRESYNC (RFC 7162 §3.2) over real loopback sockets with real storage: ENABLE QRESYNC, SELECT (QRESYNC ...)
 * after another session's changes, with known UIDs and seq-match data, after the change history expired (the
 * records deleted as their TTL would), with a stale UIDVALIDITY; UID FETCH (CHANGEDSINCE n VANISHED); and
 * VANISHED instead of EXPUNGE once enabled, at the points an EXPUNGE may be sent. Exact responses.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, MailboxState } from '../../lib/core/ports.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession, type ImapSessionOptions } from '../../lib/imap/session.ts';
import { type MailFixture, mailFixture } from '../contract/mail-store-support.ts';
import { deliverTo, ImapClient } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

let f: MailFixture;
let account: Account;
let port: number;

before(async () => {
  f = await mailFixture();
  await f.storage.directory.addDomain('example.com');
  account = await f.storage.directory.addAccount({ address: 'q@example.com', passwordHash: 'x' });
  await f.storage.mail.ensureDefaultMailboxes(account.accountId);
  port = await serve({ idlePollMs: 50 });
});

async function serve(opts: Partial<ImapSessionOptions> = {}): Promise<number> {
  const tls = await testTls();
  const authenticator = {
    async authenticate(): Promise<AuthResult> {
      return { ok: true, account };
    },
  };
  const backend = createImapBackend(f.storage.mail, f.storage.blobs, authenticator);
  let n = 0;
  const server = createServer((socket) => {
    const session = new ImapSession(
      { socket, cid: `q${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      backend,
      { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 50, tls, ...opts },
    );
    void session.run();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A logged-in client; with QRESYNC enabled unless told otherwise. */
async function client(qresync = true): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  assert.match(await c.line(), /^\* OK /);
  assert.match((await c.cmd('LOGIN q@example.com x')).status, /^a\d+ OK /);
  if (qresync) assert.deepEqual((await c.cmd('ENABLE QRESYNC')).untagged, ['* ENABLED QRESYNC']);
  return c;
}

let boxes = 0;
/** A fresh mailbox with `count` messages (UIDs 1..count). */
async function mailbox(count: number): Promise<MailboxState> {
  const name = `Q${++boxes}`;
  await f.storage.mail.createMailbox(account.accountId, name);
  for (let i = 1; i <= count; i++) {
    await deliverTo(f.storage, account.accountId, Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), {
      mailbox: name,
    });
  }
  return state(name);
}

async function state(name: string): Promise<MailboxState> {
  return (await f.storage.mail.getMailbox(account.accountId, name))!;
}

async function modseqOf(box: MailboxState, uid: number): Promise<number> {
  return (await f.storage.mail.listIndex(box)).find((e) => e.uid === uid)!.modseq;
}

/** Runs commands in another session without QRESYNC, each answered OK. */
async function elsewhere(name: string, ...commands: string[]): Promise<void> {
  const b = await client(false);
  await b.cmd(`SELECT ${name}`);
  for (const command of commands) assert.match((await b.cmd(command)).status, /^a\d+ OK/, command);
  b.destroy();
}

/** The commands that expunge these UIDs. */
const expungeUids = (uids: string): string[] => [`UID STORE ${uids} +FLAGS.SILENT (\\Deleted)`, 'EXPUNGE'];

/** What a TTL deletion of the change log does: every record of the mailbox above `from` goes. */
async function expireHistory(box: MailboxState, from: number): Promise<void> {
  const { highestModseq } = await state(box.name);
  for (let m = from + 1; m <= highestModseq; m++) {
    await f.db.send(
      new DeleteItemCommand({
        TableName: f.names.tables.changes,
        Key: { mailboxId: { S: `${box.accountId}#${box.mailboxId}` }, modseq: { N: String(m) } },
      }),
    );
  }
  assert.equal((await f.storage.mail.changesSince(box, from)).complete, false, 'the history is gone');
}

/**
 * The untagged answer to a SELECT with nothing to resync, for a mailbox without keywords: RFC 3501 §6.3.1's
 * UNSEEN (the first message without \Seen) and RFC 8474's MAILBOXID included.
 */
async function selected(s: MailboxState): Promise<string[]> {
  const flags = '\\Answered \\Flagged \\Deleted \\Seen \\Draft';
  const firstUnseen = (await f.storage.mail.listIndex(s)).findIndex((e) => !e.flags.includes('\\Seen')) + 1;
  return [
    `* FLAGS (${flags})`,
    `* ${s.messages} EXISTS`,
    '* 0 RECENT',
    ...(firstUnseen > 0 ? [`* OK [UNSEEN ${firstUnseen}] message ${firstUnseen} is first unseen`] : []),
    `* OK [UIDVALIDITY ${s.uidValidity}] UIDs valid`,
    `* OK [UIDNEXT ${s.uidNext}] predicted next UID`,
    `* OK [HIGHESTMODSEQ ${s.highestModseq}] highest modseq`,
    `* OK [MAILBOXID (${s.mailboxId})] mailbox id`,
    `* OK [PERMANENTFLAGS (${flags} \\*)] flags kept`,
  ];
}

/** What a SELECT told after its PERMANENTFLAGS line: the resync data. */
function afterPermanentFlags(untagged: readonly string[]): string[] {
  return untagged.slice(untagged.findIndex((l) => l.startsWith('* OK [PERMANENTFLAGS')) + 1);
}

describe('QRESYNC: enabling (RFC 7162 §3.2.3, §3.2.5, §3.2.6)', () => {
  it('is advertised; ENABLE QRESYNC answers ENABLED QRESYNC and turns CONDSTORE on (MODSEQ with FLAGS, §3.1.4)', async () => {
    const box = await mailbox(1);
    const c = await client(false);
    assert.match((await c.cmd('CAPABILITY')).untagged[0], / CONDSTORE QRESYNC /);
    assert.deepEqual((await c.cmd('ENABLE QRESYNC')).untagged, ['* ENABLED QRESYNC']);
    await c.cmd(`SELECT ${box.name}`);
    const m1 = await modseqOf(box, 1);
    assert.deepEqual((await c.cmd('FETCH 1 (FLAGS)')).untagged, [`* 1 FETCH (FLAGS () MODSEQ (${m1}))`]);
    c.destroy();
  });

  it('the QRESYNC parameter and the VANISHED modifier without ENABLE QRESYNC are BAD, and change nothing', async () => {
    const box = await mailbox(1);
    const c = await client(false);
    await c.cmd(`SELECT ${box.name}`);
    const bad = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity} 1))`);
    assert.deepEqual(bad.untagged, []);
    assert.match(bad.status, /^a\d+ BAD QRESYNC needs ENABLE QRESYNC first/);
    // still selected: the BAD command did not close the mailbox
    assert.match((await c.cmd('UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)')).status, /^a\d+ BAD VANISHED needs/);
    assert.match((await c.cmd('FETCH 1 (FLAGS)')).status, /^a\d+ OK/);
    // §3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE, even when enabled
    await c.cmd('ENABLE QRESYNC');
    assert.match((await c.cmd('FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)')).status, /^a\d+ BAD/);
    assert.match((await c.cmd('UID FETCH 1 (FLAGS) (VANISHED)')).status, /^a\d+ BAD/);
    c.destroy();
  });
});

describe('QRESYNC: SELECT/EXAMINE (QRESYNC ...) (RFC 7162 §3.2.5)', () => {
  it("another session flags, expunges and adds; the reconnecting client hears VANISHED (EARLIER), then each changed message's FETCH (§3.2.5.1)", async () => {
    const box = await mailbox(4);
    const a = await client();
    const before = (await a.cmd(`SELECT ${box.name}`)).untagged;
    assert.deepEqual(before, await selected(box));
    a.destroy();
    const known = box.highestModseq;

    const b = await client(false);
    await b.cmd(`SELECT ${box.name}`);
    await b.cmd('STORE 2 +FLAGS (\\Seen)');
    await b.cmd('STORE 1,3 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await b.cmd('EXPUNGE')).untagged, ['* 3 EXPUNGE', '* 1 EXPUNGE']);
    await deliverTo(f.storage, account.accountId, Buffer.from('Subject: new\r\n\r\nnew\r\n'), { mailbox: box.name });
    b.destroy();

    const now = await state(box.name);
    const [m2, m4, m5] = [await modseqOf(box, 2), await modseqOf(box, 4), await modseqOf(box, 5)];
    assert.ok(m4 <= known && m2 > known && m5 > known);
    const c = await client();
    const r = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity} ${known}))`);
    assert.deepEqual(r.untagged, [
      ...(await selected(now)),
      '* VANISHED (EARLIER) 1,3',
      `* 1 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (${m2}))`,
      `* 3 FETCH (FLAGS () UID 5 MODSEQ (${m5}))`,
    ]);
    assert.match(r.status, /OK \[READ-WRITE\] SELECT completed/);
    // known UIDs 1:4: the new message (UID 5) is not among them, the expunge of 3 is
    const k = await c.cmd(`EXAMINE ${box.name} (QRESYNC (${box.uidValidity} ${known} 3:4))`);
    assert.deepEqual(k.untagged.slice(0, 1), ['* OK [CLOSED] previous mailbox closed']);
    assert.deepEqual(k.untagged.slice(-1), ['* VANISHED (EARLIER) 3']);
    assert.match(k.status, /OK \[READ-ONLY\] EXAMINE completed/);
    // nothing changed since now: nothing to tell
    const none = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity} ${now.highestModseq}))`);
    assert.deepEqual(none.untagged, ['* OK [CLOSED] previous mailbox closed', ...(await selected(now))]);
    c.destroy();
  });

  it('a different UIDVALIDITY: the rest is ignored, the answer is a plain SELECT (§3.2.5)', async () => {
    const box = await mailbox(2);
    await elsewhere(box.name, ...expungeUids('1'));
    const c = await client();
    const r = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity + 1} 1 1:2))`);
    assert.deepEqual(r.untagged, await selected(await state(box.name)));
    c.destroy();
  });

  it('history gone (records expired, the floor rises): VANISHED (EARLIER) of every known UID no longer there, from the index', async () => {
    const box = await mailbox(5);
    await elsewhere(box.name, ...expungeUids('1')); // before the client's modseq: it knows of this one
    const known = (await state(box.name)).highestModseq;
    await elsewhere(box.name, ...expungeUids('2,4'), 'UID STORE 3 +FLAGS.SILENT (\\Flagged)');
    await expireHistory(box, known);
    const m3 = await modseqOf(box, 3);
    const c = await client();
    const all = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity} ${known}))`);
    // everything not there any more, UID 1 included: the server cannot tell when it went
    assert.deepEqual(afterPermanentFlags(all.untagged), [
      '* VANISHED (EARLIER) 1:2,4',
      `* 1 FETCH (FLAGS (\\Flagged) UID 3 MODSEQ (${m3}))`,
    ]);
    const some = await c.cmd(`SELECT ${box.name} (QRESYNC (${box.uidValidity} ${known} 2:5))`);
    assert.deepEqual(afterPermanentFlags(some.untagged), [
      '* VANISHED (EARLIER) 2,4',
      `* 1 FETCH (FLAGS (\\Flagged) UID 3 MODSEQ (${m3}))`,
    ]);
    // UID FETCH (CHANGEDSINCE n VANISHED) falls back the same way (§3.2.6)
    const fetched = await c.cmd(`UID FETCH 3:* (FLAGS) (CHANGEDSINCE ${known} VANISHED)`);
    assert.deepEqual(fetched.untagged, [
      '* VANISHED (EARLIER) 4',
      `* 1 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (${m3}))`,
    ]);
    c.destroy();
  });

  it('seq-match data: expunges below the last matching (number, UID) pair are not told again (§3.2.5.2)', async () => {
    const box = await mailbox(6);
    await elsewhere(box.name, ...expungeUids('2'));
    // the client's view now: 1→1, 2→3, 3→4, 4→5, 5→6
    const known = (await state(box.name)).highestModseq;
    await elsewhere(box.name, ...expungeUids('5'));
    await expireHistory(box, known); // the fallback, where seq-match data saves the most
    const c = await client();
    const qr = (extra: string) => `SELECT ${box.name} (QRESYNC (${box.uidValidity} ${known} 1:6${extra}))`;
    const vanishedOf = (r: { untagged: string[] }) => r.untagged.filter((l) => l.startsWith('* VANISHED'));
    assert.deepEqual(vanishedOf(await c.cmd(qr(''))), ['* VANISHED (EARLIER) 2,5']);
    // 1→1, 2→3, 3→4 still hold: the client knows of every expunge up to UID 4
    assert.deepEqual(vanishedOf(await c.cmd(qr(' (1:3 1,3:4)'))), ['* VANISHED (EARLIER) 5']);
    // 4→5 no longer holds (message 4 is UID 6 now): nothing is narrowed past the last pair that holds
    assert.deepEqual(vanishedOf(await c.cmd(qr(' (1,4 1,5)'))), ['* VANISHED (EARLIER) 2,5']);
    assert.deepEqual(vanishedOf(await c.cmd(qr(' (4 5)'))), ['* VANISHED (EARLIER) 2,5']);
    const bad = await c.cmd(qr(' (1:3 1)'));
    assert.match(bad.status, /^a\d+ BAD .*differ in size/);
    c.destroy();
  });
});

describe('QRESYNC: UID FETCH (CHANGEDSINCE n VANISHED) (RFC 7162 §3.2.6)', () => {
  it('VANISHED (EARLIER) of the set first, then the changed messages; UIDs outside the set are not told', async () => {
    const box = await mailbox(4);
    const c = await client();
    await c.cmd(`SELECT ${box.name}`);
    const known = box.highestModseq;
    await elsewhere(box.name, ...expungeUids('1,4'), 'UID STORE 2 +FLAGS.SILENT (\\Answered)');
    const m2 = await modseqOf(box, 2);
    const r = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${known} VANISHED)`);
    // the catch-up before a UID command tells the expunges (VANISHED) and the flag change first
    assert.deepEqual(r.untagged, [
      '* VANISHED 1,4',
      `* 1 FETCH (FLAGS (\\Answered) UID 2 MODSEQ (${m2}))`,
      '* VANISHED (EARLIER) 1,4',
      `* 1 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (${m2}))`,
    ]);
    const part = await c.cmd(`UID FETCH 2:3 (FLAGS) (CHANGEDSINCE ${known} VANISHED)`);
    assert.deepEqual(part.untagged, [`* 1 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (${m2}))`]);
    c.destroy();
  });
});

describe('QRESYNC: VANISHED instead of EXPUNGE (RFC 7162 §3.2.10.2)', () => {
  it('EXPUNGE and UID EXPUNGE answer VANISHED with HIGHESTMODSEQ on the OK (§3.2.7, §3.2.9); MOVE tells VANISHED', async () => {
    const box = await mailbox(5);
    await f.storage.mail.createMailbox(account.accountId, `${box.name}-to`);
    const to = await state(`${box.name}-to`);
    const c = await client();
    await c.cmd(`SELECT ${box.name}`);
    await c.cmd('STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    const x = await c.cmd('UID EXPUNGE 2:3');
    assert.deepEqual(x.untagged, ['* VANISHED 2:3']);
    assert.match(
      x.status,
      new RegExp(`OK \\[HIGHESTMODSEQ ${(await state(box.name)).highestModseq}\\] UID EXPUNGE completed$`),
    );
    const e = await c.cmd('EXPUNGE');
    assert.deepEqual(e.untagged, ['* VANISHED 1']);
    assert.match(
      e.status,
      new RegExp(`OK \\[HIGHESTMODSEQ ${(await state(box.name)).highestModseq}\\] EXPUNGE completed`),
    );
    const none = await c.cmd('EXPUNGE');
    assert.deepEqual(none.untagged, []);
    assert.match(none.status, /^a\d+ OK EXPUNGE completed$/);
    const move = await c.cmd(`MOVE 1:2 ${to.name}`);
    assert.deepEqual(move.untagged, [`* OK [COPYUID ${to.uidValidity} 4:5 1:2] moved`, '* VANISHED 4:5']);
    // CLOSE expunges silently, QRESYNC or not (RFC 9051 §6.4.1)
    await c.cmd(`SELECT ${to.name}`);
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    const close = await c.cmd('CLOSE');
    assert.deepEqual(close.untagged, []);
    assert.match(close.status, /^a\d+ OK CLOSE completed$/);
    assert.equal((await state(to.name)).messages, 1);
    c.destroy();
  });

  it("another session's expunge: VANISHED at NOOP and before UID commands, held before FETCH by number, with a HIGHESTMODSEQ below it (§3.2)", async () => {
    const box = await mailbox(3);
    const c = await client();
    await c.cmd(`SELECT ${box.name}`);
    const b = await client(false);
    await b.cmd(`SELECT ${box.name}`);
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    assert.deepEqual((await c.cmd('NOOP')).untagged, ['* VANISHED 1']);
    const told = (await state(box.name)).highestModseq;
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)'); // UID 2
    await b.cmd('EXPUNGE');
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Flagged)'); // UID 3
    const m3 = await modseqOf(box, 3);
    // FETCH by number: no VANISHED (the client's numbers would shift); the flag change is told, with a
    // HIGHESTMODSEQ below the expunge that waits, so a client that drops now resyncs from before it
    const fetched = await c.cmd('FETCH 2 (FLAGS)');
    assert.deepEqual(fetched.untagged, [
      `* 2 FETCH (FLAGS (\\Flagged) UID 3 MODSEQ (${m3}))`,
      `* OK [HIGHESTMODSEQ ${told}] expunges pending`,
      `* 2 FETCH (FLAGS (\\Flagged) MODSEQ (${m3}))`,
    ]);
    // still waiting at the next FETCH by number: the low HIGHESTMODSEQ again, before its MODSEQs
    const still = await c.cmd('FETCH 1 (FLAGS)');
    assert.deepEqual([still.untagged.length, still.untagged[0]], [2, `* OK [HIGHESTMODSEQ ${told}] expunges pending`]);
    assert.deepEqual((await c.cmd('UID SEARCH ALL')).untagged, ['* VANISHED 2', '* SEARCH 3']);
    // IDLE: the poll hears the next expunge and tells it as VANISHED
    await b.cmd('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    await c.cmd('NOOP');
    c.send('i1 IDLE\r\n');
    assert.equal(await c.line(), '+ idling');
    await b.cmd('EXPUNGE');
    assert.equal(await c.line(), '* VANISHED 3');
    c.send('DONE\r\n');
    assert.match(await c.line(), /^i1 OK/);
    b.destroy();
    c.destroy();
  });

  it('a session without QRESYNC still hears EXPUNGE (§3.2.10.2 applies only once enabled)', async () => {
    const box = await mailbox(2);
    const plain = await client(false);
    await plain.cmd(`SELECT ${box.name}`);
    const q = await client();
    await q.cmd(`SELECT ${box.name}`);
    await q.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await q.cmd('EXPUNGE')).untagged, ['* VANISHED 2']);
    assert.deepEqual((await plain.cmd('NOOP')).untagged, ['* 2 EXPUNGE']);
    plain.destroy();
    q.destroy();
  });
});
