/**
 * IMAP compliance: EXPUNGE under several sessions (RFC 3501 §7.4.1, RFC 9051 §7.5.1, RFC 2180 §4): no
 * `* n EXPUNGE` while FETCH, STORE or SEARCH answer, sequence numbers that stay right when several
 * messages go in one response, EXISTS after another session's APPEND, and what FETCH, STORE and COPY do
 * with a message another session expunged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImapClient } from '../protocol/imap-support.ts';
import { complianceServer } from './imap-compliance-support.ts';

const env = complianceServer();

const messages = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `Subject: m${i + 1}\r\nFrom: x@example.com\r\n\r\nbody ${i + 1}\r\n`);

/** Applies `* n EXPUNGE` responses in order to the client's view (UIDs by sequence number). */
function applyExpunges(view: number[], responses: readonly string[]): number[] {
  const out = [...view];
  for (const r of responses) {
    const m = /^\* (\d+) EXPUNGE$/.exec(r);
    if (m) out.splice(Number(m[1]) - 1, 1);
  }
  return out;
}

async function uidsOf(c: ImapClient): Promise<number[]> {
  const r = await c.cmd('FETCH 1:* (UID)');
  return r.untagged.flatMap((l) => {
    const m = /^\* \d+ FETCH \(UID (\d+)\)$/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

/** Two sessions on a new mailbox with n messages; A marks and expunges the given sequence numbers. */
async function twoSessions(name: string, n: number): Promise<{ a: ImapClient; b: ImapClient; uids: number[] }> {
  const uids = (await env.mailboxWith(name, messages(n))).map((d) => d.uid);
  const a = await env.login();
  const b = await env.login();
  await a.cmd(`SELECT ${name}`);
  await b.cmd(`SELECT ${name}`);
  return { a, b, uids };
}

/** Two sessions where A expunged message 2, which B still shows (no EXPUNGE may reach it during FETCH etc.). */
async function secondGone(name: string, n: number): Promise<{ a: ImapClient; b: ImapClient; uids: number[] }> {
  const sessions = await twoSessions(name, n);
  await sessions.a.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
  await sessions.a.cmd('EXPUNGE');
  return sessions;
}

const noExpunge = (lines: readonly string[]) => assert.ok(!lines.some((l) => / EXPUNGE$/.test(l)), lines.join('\n'));

describe('IMAP compliance: EXPUNGE told only where allowed (RFC 9051 §7.5.1)', () => {
  it("another session's expunge is not told during FETCH, STORE or SEARCH, and the numbers stay the client's", async () => {
    const { a, b, uids } = await twoSessions('Exp1', 4);
    await a.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await a.cmd('EXPUNGE')).untagged, ['* 2 EXPUNGE']);
    const f = await b.cmd('FETCH 3:4 (UID)');
    noExpunge(f.untagged);
    assert.deepEqual(f.untagged, [`* 3 FETCH (UID ${uids[2]})`, `* 4 FETCH (UID ${uids[3]})`]);
    const s = await b.cmd('SEARCH ALL');
    noExpunge(s.untagged);
    assert.equal(s.untagged.at(-1)?.startsWith('* SEARCH 1'), true);
    const st = await b.cmd('STORE 4 +FLAGS (\\Seen)');
    noExpunge(st.untagged);
    assert.ok(st.untagged.includes('* 4 FETCH (FLAGS (\\Seen))'), st.untagged.join('\n'));
    const noop = await b.cmd('NOOP');
    assert.deepEqual(noop.untagged, ['* 2 EXPUNGE']);
    assert.deepEqual(await uidsOf(b), [uids[0], uids[2], uids[3]]);
    a.destroy();
    b.destroy();
  });

  it('an EXPUNGE may come during a UID command (RFC 9051 §7.5.1 note)', async () => {
    const { a, b, uids } = await twoSessions('Exp2', 3);
    await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.cmd('EXPUNGE');
    const f = await b.cmd('UID FETCH 1:* (UID)');
    assert.deepEqual(f.untagged, ['* 1 EXPUNGE', `* 1 FETCH (UID ${uids[1]})`, `* 2 FETCH (UID ${uids[2]})`]);
    a.destroy();
    b.destroy();
  });

  it('several expunges in one response: each number is right when the client applies it in order', async () => {
    const { a, b, uids } = await twoSessions('Exp3', 7);
    await a.cmd('STORE 2,3,5,7 +FLAGS.SILENT (\\Deleted)');
    const own = await a.cmd('EXPUNGE');
    assert.equal(own.untagged.length, 4);
    const left = [uids[0], uids[3], uids[5]];
    assert.deepEqual(applyExpunges(uids, own.untagged), left);
    assert.deepEqual(await uidsOf(a), left);
    const other = await b.cmd('NOOP');
    assert.equal(other.untagged.filter((l) => / EXPUNGE$/.test(l)).length, 4);
    assert.deepEqual(applyExpunges(uids, other.untagged), left);
    assert.deepEqual(await uidsOf(b), left);
    a.destroy();
    b.destroy();
  });

  it("another session's APPEND is told as * n EXISTS at the next command (RFC 9051 §7.4.1)", async () => {
    const { a, b } = await twoSessions('Exp4', 2);
    const msg = 'Subject: new\r\n\r\nnew\r\n';
    a.send(`ap APPEND Exp4 {${msg.length}+}\r\n${msg}\r\n`);
    assert.match((await a.until('ap')).status, /^ap OK \[APPENDUID /);
    assert.deepEqual((await b.cmd('NOOP')).untagged, ['* 3 EXISTS']);
    assert.match((await a.cmd('NOOP')).untagged.join(' '), /^(\* 3 EXISTS)?$/);
    a.destroy();
    b.destroy();
  });

  it('an expunge and an append elsewhere: EXISTS during FETCH, EXPUNGE after, and the counts add up', async () => {
    const { a, b, uids } = await twoSessions('Exp5', 3);
    await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.cmd('EXPUNGE');
    const d = await env.deliver('Exp5', 'Subject: late\r\n\r\nlate\r\n');
    const f = await b.cmd('FETCH 1 (UID)');
    assert.deepEqual(f.untagged, ['* 4 EXISTS', `* 1 FETCH (UID ${uids[0]})`]);
    assert.deepEqual((await b.cmd('CHECK')).untagged, ['* 1 EXPUNGE']);
    assert.deepEqual(await uidsOf(b), [uids[1], uids[2], d.uid]);
    a.destroy();
    b.destroy();
  });
});

describe('IMAP compliance: a message expunged by another session (RFC 2180 §4)', () => {
  it('FETCH gives its data (RFC 2180 §4.1.1) or, without it, NO [EXPUNGEISSUED] (§4.1.2, RFC 5530), never a silent OK', async () => {
    const { a, b, uids } = await secondGone('Gone1', 3);
    const f = await b.cmd('FETCH 1:3 (UID ENVELOPE)');
    noExpunge(f.untagged);
    assert.match(f.untagged[0], new RegExp(`^\\* 1 FETCH \\(UID ${uids[0]} ENVELOPE `));
    if (f.untagged.length === 3) assert.match(f.status, /^a\d+ OK /);
    else {
      assert.equal(f.untagged.length, 2);
      assert.match(f.status, /^a\d+ NO \[EXPUNGEISSUED\] /);
    }
    a.destroy();
    b.destroy();
  });

  it('SEARCH leaves it out (RFC 2180 §4.3), by flags or by index keys, numbering the others as the client does', async () => {
    const { a, b } = await secondGone('Gone6', 3);
    assert.deepEqual((await b.cmd('SEARCH ALL')).untagged, ['* SEARCH 1 3']);
    assert.deepEqual((await b.cmd('SEARCH NOT SUBJECT zzz')).untagged, ['* SEARCH 1 3']);
    assert.deepEqual((await b.cmd('SEARCH 2')).untagged, ['* SEARCH']);
    assert.deepEqual((await b.cmd('NOOP')).untagged, ['* 2 EXPUNGE']);
    assert.deepEqual((await b.cmd('SEARCH ALL')).untagged, ['* SEARCH 1 2']);
    a.destroy();
    b.destroy();
  });

  it('FETCH of FLAGS and UID alone still answers from the session view, with no EXPUNGE', async () => {
    const { a, b, uids } = await secondGone('Gone2', 2);
    const f = await b.cmd('FETCH 2 (UID FLAGS)');
    noExpunge(f.untagged);
    assert.match(f.untagged.at(-1) ?? '', new RegExp(`^\\* 2 FETCH \\(UID ${uids[1]} FLAGS \\(`));
    a.destroy();
    b.destroy();
  });

  it('FETCH of its body: the others are sent, then NO [EXPUNGEISSUED] (RFC 2180 §4.1.2); UID FETCH tells the EXPUNGE first', async () => {
    const { a, b, uids } = await secondGone('Gone1b', 3);
    const f = await b.cmd('FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    noExpunge(f.untagged);
    assert.deepEqual(
      f.untagged.filter((l) => / FETCH /.test(l)).map((l) => l.split(' ')[1]),
      ['1', '3'],
    );
    assert.match(f.status, /^a\d+ NO \[EXPUNGEISSUED\] /);
    const u = await b.cmd('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(u.untagged[0], '* 2 EXPUNGE');
    assert.match(u.status, /^a\d+ OK /);
    assert.deepEqual(await uidsOf(b), [uids[0], uids[2]]);
    a.destroy();
    b.destroy();
  });

  it('an index item whose blob is gone: the others are sent, then NO [SERVERBUG], never NONEXISTENT (that code is for mailboxes, RFC 5530)', async () => {
    const { b, a, uids } = await twoSessions('Dangling', 3);
    const ref = {
      accountId: env.account.accountId,
      mailboxId: (await env.storage.mail.getMailbox(env.account.accountId, 'Dangling'))!.mailboxId,
    };
    const [meta] = await env.storage.mail.getMessages(ref, [uids[1]]);
    await env.storage.blobs.delete(meta.blobKey);
    const f = await b.cmd('FETCH 1:3 (UID BODY.PEEK[])');
    assert.deepEqual(
      f.untagged.filter((l) => / FETCH /.test(l)).map((l) => l.split(' ')[1]),
      ['1', '3'],
    );
    assert.match(f.status, /^a\d+ NO \[SERVERBUG\] /);
    // nothing of the broken message went out: the connection still parses
    assert.match((await b.cmd('NOOP')).status, /^a\d+ OK /);
    a.destroy();
    b.destroy();
  });

  it('STORE on it: .SILENT is OK (RFC 2180 §4.2.1), otherwise the others are stored and told and the answer is NO [EXPUNGEISSUED] (§4.2.2, §4.2.3)', async () => {
    const { a, b } = await secondGone('Gone4', 3);
    const only = await b.cmd('STORE 2 +FLAGS (\\Flagged)');
    assert.deepEqual(only.untagged, []);
    assert.match(only.status, /^a\d+ NO \[EXPUNGEISSUED\] /);
    const mixed = await b.cmd('STORE 1:3 +FLAGS (\\Flagged)');
    noExpunge(mixed.untagged);
    assert.deepEqual(mixed.untagged, ['* 1 FETCH (FLAGS (\\Flagged))', '* 3 FETCH (FLAGS (\\Flagged))']);
    assert.match(mixed.status, /^a\d+ NO \[EXPUNGEISSUED\] /);
    const silent = await b.cmd('STORE 1:3 +FLAGS.SILENT (\\Seen)');
    assert.deepEqual(silent.untagged, []);
    assert.match(silent.status, /^a\d+ OK /);
    const flags = (await a.cmd('FETCH 1:2 (FLAGS)')).untagged.slice(-2);
    assert.deepEqual(flags, ['* 1 FETCH (FLAGS (\\Flagged \\Seen))', '* 2 FETCH (FLAGS (\\Flagged \\Seen))']);
    a.destroy();
    b.destroy();
  });

  it('COPY and MOVE naming it copy nothing: NO [EXPUNGEISSUED] (RFC 2180 §4.4, RFC 3501 §6.4.7 all or nothing)', async () => {
    const { a, b, uids } = await secondGone('Gone5', 3);
    await env.storage.mail.createMailbox(env.account.accountId, 'Gone5Dst');
    for (const cmd of ['COPY 1:3 Gone5Dst', 'MOVE 1:3 Gone5Dst', 'COPY 2 Gone5Dst']) {
      const r = await b.cmd(cmd);
      noExpunge(r.untagged);
      assert.match(r.status, /^a\d+ NO \[EXPUNGEISSUED\] /, cmd);
    }
    assert.deepEqual((await b.cmd('STATUS Gone5Dst (MESSAGES)')).untagged, [
      '* 2 EXPUNGE',
      '* STATUS Gone5Dst (MESSAGES 0)',
    ]);
    const copy = await b.cmd('COPY 1:2 Gone5Dst');
    assert.match(copy.status, new RegExp(`^a\\d+ OK \\[COPYUID \\d+ ${uids[0]},${uids[2]} `));
    a.destroy();
    b.destroy();
  });

  it('STORE on it changes nothing and tells no EXPUNGE; COPY copies the others or refuses, never fails the server', async () => {
    const { a, b, uids } = await secondGone('Gone3', 3);
    await env.storage.mail.createMailbox(env.account.accountId, 'Gone3Dst');
    const st = await b.cmd('STORE 2 +FLAGS (\\Flagged)');
    noExpunge(st.untagged);
    assert.match(st.status, /^a\d+ (OK|NO) /);
    const copy = await b.cmd('COPY 1:3 Gone3Dst');
    noExpunge(copy.untagged);
    assert.match(copy.status, /^a\d+ (OK|NO) /);
    assert.doesNotMatch(copy.status, /SERVERBUG/);
    // STATUS is no FETCH, STORE or SEARCH: the pending expunge may come now
    const status = (await b.cmd('STATUS Gone3Dst (MESSAGES)')).untagged.filter((l) => l.startsWith('* STATUS'));
    if (/^a\d+ OK \[COPYUID /.test(copy.status)) {
      assert.match(copy.status, new RegExp(`COPYUID \\d+ ${uids[0]},${uids[2]} `));
      assert.deepEqual(status, ['* STATUS Gone3Dst (MESSAGES 2)']);
    } else assert.deepEqual(status, ['* STATUS Gone3Dst (MESSAGES 0)']);
    a.destroy();
    b.destroy();
  });

  it('CLOSE of a mailbox opened with EXAMINE removes nothing; UNSELECT removes nothing; CLOSE sends no EXPUNGE (RFC 3501 §6.4.2, RFC 3691)', async () => {
    const { a, b } = await twoSessions('Close1', 3);
    await a.cmd('STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXAMINE Close1');
    assert.match((await b.cmd('EXPUNGE')).status, /^a\d+ NO /);
    const closeRo = await b.cmd('CLOSE');
    assert.deepEqual(closeRo.untagged, []);
    assert.deepEqual((await b.cmd('STATUS Close1 (MESSAGES)')).untagged, ['* STATUS Close1 (MESSAGES 3)']);
    assert.deepEqual((await a.cmd('UNSELECT')).untagged, []);
    assert.deepEqual((await b.cmd('STATUS Close1 (MESSAGES)')).untagged, ['* STATUS Close1 (MESSAGES 3)']);
    await a.cmd('SELECT Close1');
    const close = await a.cmd('CLOSE');
    assert.deepEqual(close.untagged, []);
    assert.match(close.status, /^a\d+ OK /);
    assert.deepEqual((await b.cmd('STATUS Close1 (MESSAGES)')).untagged, ['* STATUS Close1 (MESSAGES 1)']);
    a.destroy();
    b.destroy();
  });

  it('UID EXPUNGE removes only the \\Deleted messages of its UID set (RFC 4315 §2.1)', async () => {
    const { a, b, uids } = await twoSessions('UidExp', 4);
    await a.cmd('STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    const r = await a.cmd(`UID EXPUNGE ${uids[1]}:${uids[3]}`);
    assert.deepEqual(applyExpunges(uids, r.untagged), [uids[0], uids[3]]);
    assert.equal(r.untagged.length, 2);
    assert.deepEqual(applyExpunges(uids, (await b.cmd('NOOP')).untagged), [uids[0], uids[3]]);
    a.destroy();
    b.destroy();
  });
});
