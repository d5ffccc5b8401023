/**
 * IMAP4rev2 (RFC 9051) next to IMAP4rev1 (RFC 3501) on one gateway: in the same run a client that sends
 * `ENABLE IMAP4rev2` and one that does not each get the responses of their revision (RFC 9051 Appendix A,
 * the differences of Appendix E). Real sockets to a whole gateway, real storage, exact responses.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Account } from '../../lib/core/ports.ts';
import { deliverTo, ImapClient, loggedInClient } from '../protocol/imap-support.ts';
import { startTestGateway } from '../support/gateway.ts';

const tg = await startTestGateway();

async function newUser(): Promise<{ account: Account; login: (enable?: string[]) => Promise<ImapClient> }> {
  const user = `rev2-${randomBytes(4).toString('hex')}@example.com`;
  const pass = `pw${randomBytes(4).toString('hex')}`;
  const account = await tg.addAccount(user, pass);
  return { account, login: (enable = []) => loggedInClient(tg.port('imap'), user, pass, enable) };
}

/** A mailbox `Proj` (subscribed, with a subscribed child) holding a \Seen message and an unseen one. */
async function project(account: Account) {
  await tg.storage.mail.createMailbox(account.accountId, 'Proj', { subscribed: true });
  await tg.storage.mail.createMailbox(account.accountId, 'Proj/Sub');
  const opts = { mailbox: 'Proj' };
  const read = await deliverTo(tg.storage, account.accountId, Buffer.from('Subject: a\r\n\r\na\r\n'), {
    ...opts,
    flags: ['\\Seen'],
  });
  const unread = await deliverTo(tg.storage, account.accountId, Buffer.from('Subject: b\r\n\r\nb\r\n'), opts);
  const box = (await tg.storage.mail.getMailbox(account.accountId, 'Proj'))!;
  return { read, unread, box };
}

describe('IMAP4rev2: ENABLE', () => {
  it('is refused before login; enables IMAP4rev2 once; leaves CAPABILITY as it was (RFC 9051 §6.3.1, Appendix A)', async () => {
    const { login } = await newUser();
    const anon = await ImapClient.connect(tg.port('imap'));
    await anon.line();
    // ENABLE is a command of the authenticated state (RFC 9051 §6.3, Appendix G: command-auth)
    assert.match((await anon.cmd('ENABLE IMAP4rev2')).status, /^a1 BAD ENABLE: log in first/);
    anon.destroy();

    const c = await login();
    const before = await c.cmd('CAPABILITY');
    // Appendix A: a server serving both revisions advertises both
    assert.match(before.untagged[0], /^\* CAPABILITY IMAP4rev1 IMAP4rev2 .*\bUTF8=ACCEPT\b/);
    // §6.3.1: unknown names are ignored; the ENABLED response names what was enabled, once
    const en = await c.cmd('ENABLE X-UNKNOWN imap4rev2 IMAP4rev2');
    assert.deepEqual(en.untagged, ['* ENABLED IMAP4rev2']);
    assert.match(en.status, /^a\d+ OK/);
    // §6.3.1: ENABLED is sent even when nothing was enabled
    assert.deepEqual((await c.cmd('ENABLE X-NOTHING')).untagged, ['* ENABLED']);
    // §6.3.1: the server MUST NOT change the CAPABILITY list as a result of ENABLE
    assert.deepEqual((await c.cmd('CAPABILITY')).untagged, before.untagged);
    c.destroy();
  });
});

describe('IMAP4rev2 and IMAP4rev1 side by side', () => {
  it('SELECT: rev1 gets RECENT and UNSEEN, rev2 the LIST of the mailbox and neither (RFC 3501 §6.3.1; RFC 9051 §6.3.2, Appendix E 10-12)', async () => {
    const { account, login } = await newUser();
    const { unread, box } = await project(account);
    const common = [
      `* OK [UIDVALIDITY ${box.uidValidity}] UIDs valid`,
      `* OK [UIDNEXT ${unread.uid + 1}] predicted next UID`,
      `* OK [HIGHESTMODSEQ ${box.highestModseq}] highest modseq`,
      `* OK [MAILBOXID (${box.mailboxId})] mailbox id`,
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags kept',
    ];
    const rev1 = await login();
    const rev2 = await login(['IMAP4rev2']);
    const s1 = await rev1.cmd('SELECT Proj');
    assert.deepEqual(s1.untagged, [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
      '* 2 EXISTS',
      '* 0 RECENT',
      '* OK [UNSEEN 2] message 2 is first unseen',
      ...common,
    ]);
    const s2 = await rev2.cmd('SELECT Proj');
    assert.deepEqual(s2.untagged, [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
      '* 2 EXISTS',
      // §6.3.2: the LIST response MUST be there, its attributes accurate
      '* LIST (\\HasChildren \\Subscribed) "/" Proj',
      ...common,
    ]);
    assert.match(s1.status, /OK \[READ-WRITE\] SELECT completed/);
    assert.match(s2.status, /OK \[READ-WRITE\] SELECT completed/);
    // EXAMINE of a special-use mailbox: the LIST carries its special use (§7.3.1)
    const ex = await rev2.cmd('EXAMINE Sent');
    assert.equal(ex.untagged[0], '* OK [CLOSED] previous mailbox closed');
    assert.ok(ex.untagged.includes('* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent'), ex.untagged.join('\n'));
    assert.ok(!ex.untagged.some((l) => / RECENT$|\[UNSEEN /.test(l)), ex.untagged.join('\n'));
    assert.match(ex.status, /OK \[READ-ONLY\] EXAMINE completed/);
    rev1.destroy();
    rev2.destroy();
  });

  it("another session's flag change: rev2 hears it with the UID, rev1 without (RFC 9051 §7.5.2, Appendix E 21)", async () => {
    const { account, login } = await newUser();
    const { unread } = await project(account);
    const rev1 = await login();
    const rev2 = await login(['IMAP4rev2']);
    const other = await login();
    for (const c of [rev1, rev2, other]) assert.match((await c.cmd('SELECT Proj')).status, /OK/);
    assert.deepEqual((await other.cmd('STORE 2 +FLAGS.SILENT (\\Flagged)')).untagged, []);
    assert.deepEqual((await rev2.cmd('NOOP')).untagged, [`* 2 FETCH (FLAGS (\\Flagged) UID ${unread.uid})`]);
    assert.deepEqual((await rev1.cmd('NOOP')).untagged, ['* 2 FETCH (FLAGS (\\Flagged))']);
    // A FETCH the client asked for is not unsolicited: it stays as asked (RFC 9051 §6.4.5)
    assert.deepEqual((await rev2.cmd('FETCH 2 (FLAGS)')).untagged, ['* 2 FETCH (FLAGS (\\Flagged))']);
    for (const c of [rev1, rev2, other]) c.destroy();
  });

  it('deprecated but served under rev2: LSUB, RFC822.* FETCH items; NAMESPACE as in rev1 (RFC 9051 Appendix A, Appendix E 18-19)', async () => {
    const { account, login } = await newUser();
    const { read } = await project(account);
    const rev2 = await login(['IMAP4rev2']);
    assert.deepEqual((await rev2.cmd('LSUB "" "Proj*"')).untagged, ['* LSUB () "/" Proj', '* LSUB () "/" Proj/Sub']);
    assert.deepEqual((await rev2.cmd('NAMESPACE')).untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
    await rev2.cmd('EXAMINE Proj');
    const header = 'Subject: a\r\n\r\n';
    assert.deepEqual((await rev2.cmd('FETCH 1 (RFC822.SIZE RFC822.HEADER)')).untagged, [
      `* 1 FETCH (RFC822.SIZE ${read.bytes.length} RFC822.HEADER {${header.length}}\r\n${header})`,
    ]);
    rev2.destroy();
  });

  it('BODY of a message/global part: basic for rev1, with envelope and body for rev2 (RFC 3501 §9 media-message, RFC 9051 §7.5.2)', async () => {
    const { account, login } = await newUser();
    const inner = 'Subject: inner\r\n\r\nhi\r\n';
    const outer =
      'Subject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
      `--b\r\nContent-Type: message/global\r\n\r\n${inner}--b--\r\n`;
    await deliverTo(tg.storage, account.accountId, Buffer.from(outer));
    const rev1 = await login();
    const rev2 = await login(['IMAP4rev2']);
    // the part's octets end before the CRLF of the closing delimiter; so does its text "hi" (2 octets, 1 line)
    const part = `"MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" ${inner.length - 2}`;
    await rev1.cmd('EXAMINE INBOX');
    await rev2.cmd('EXAMINE INBOX');
    assert.deepEqual((await rev1.cmd('FETCH 1 (BODY)')).untagged, [`* 1 FETCH (BODY ((${part}) "MIXED"))`]);
    const innerBody =
      '(NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 2 1) 3';
    assert.deepEqual((await rev2.cmd('FETCH 1 (BODY)')).untagged, [
      `* 1 FETCH (BODY ((${part} ${innerBody}) "MIXED"))`,
    ]);
    rev1.destroy();
    rev2.destroy();
  });
});
