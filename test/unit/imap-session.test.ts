/**
 * The IMAP session over a real loopback socket, with the real codec and real storage (the run's DynamoDB
 * Local and S3 stand-in) behind the ImapBackend; only the password check is faked. Exact responses for
 * the states, login, mailboxes, FETCH byte-exactness, STORE, EXPUNGE and SEARCH.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, ChangeNotifier, Storage } from '../../lib/core/ports.ts';
import { createImapBackend, type ImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession, type ImapSessionOptions } from '../../lib/imap/session.ts';
import { InProcessChangeNotifier } from '../../lib/storage/changeNotifier.ts';
import { deliverTo, ImapClient } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';
import { freshStorage } from '../support/storage.ts';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

let storage: Storage;
let account: Account;

before(async () => {
  storage = await freshStorage();
  await storage.directory.addDomain('example.com');
  account = await storage.directory.addAccount({ address: 'alice@example.com', passwordHash: 'x' });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
});

function backend(notifier?: ChangeNotifier): ImapBackend {
  const authenticator = {
    async authenticate({ username, password }: { username: string; password: string }): Promise<AuthResult> {
      if (username === 'throttled@example.com') return { ok: false, reason: 'throttled', retryAfterMs: 60_000 };
      return username === 'alice@example.com' && password === 'secret'
        ? { ok: true, account }
        : { ok: false, reason: 'invalid' };
    },
  };
  return createImapBackend(storage.mail, storage.blobs, authenticator, notifier);
}

async function serve(opts: Partial<ImapSessionOptions> = {}, notifier?: ChangeNotifier): Promise<number> {
  const tls = await testTls();
  let n = 0;
  const b = backend(notifier);
  const server = createServer((socket) => {
    const session = new ImapSession(
      { socket, cid: `c${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      b,
      { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 20, tls, ...opts },
    );
    void session.run();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function loggedIn(port: number): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  assert.match(await c.line(), /^\* OK /);
  assert.match((await c.cmd('LOGIN alice@example.com secret')).status, /^a\d+ OK /);
  return c;
}

const MESSAGE = Buffer.from(
  'From: Bob <bob@example.org>\r\nTo: alice@example.com\r\nSubject: hello there\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n' +
    '--b1\r\nContent-Type: text/plain\r\n\r\nfirst part \xe9\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--b1--\r\n',
  'latin1',
);

describe('IMAP session: states and login', () => {
  it('greets with OK and CAPABILITY; LOGINDISABLED before TLS when plaintext is not allowed (RFC 9051 §6.2.3)', async () => {
    const port = await serve({ allowPlaintextAuth: false });
    const c = await ImapClient.connect(port);
    const greeting = await c.line();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS LOGINDISABLED\] /);
    const r = await c.cmd('LOGIN alice@example.com secret');
    assert.match(r.status, /^a1 NO \[PRIVACYREQUIRED\]/);
    const auth = await c.cmd('AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==');
    assert.match(auth.status, /^a2 NO \[PRIVACYREQUIRED\]/);
    c.destroy();
  });

  it('STARTTLS: then the capabilities offer AUTH=PLAIN, and pipelined plaintext is not obeyed (RFC 9051 §6.2.1)', async () => {
    const port = await serve({ allowPlaintextAuth: false });
    const c = await ImapClient.connect(port);
    await c.line();
    c.send('s1 STARTTLS\r\ns2 LOGIN alice@example.com secret\r\n');
    assert.match(await c.line(), /^s1 OK /);
    await c.startTls();
    const caps = await c.cmd('CAPABILITY');
    assert.equal(
      caps.untagged[0],
      '* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE NAMESPACE UNSELECT SPECIAL-USE MOVE IDLE UIDPLUS MULTIAPPEND BINARY SAVEDATE OBJECTID CONDSTORE QRESYNC ESEARCH SEARCHRES UTF8=ACCEPT APPENDLIMIT=52428800 LIST-EXTENDED LIST-STATUS CHILDREN CREATE-SPECIAL-USE STATUS=SIZE QUOTA QUOTA=RES-STORAGE AUTH=PLAIN SASL-IR',
    );
    assert.match((await c.cmd('STARTTLS')).status, /^a2 BAD/);
    // SASL-IR absent: an empty challenge, then the response (RFC 9051 §6.2.2)
    c.send('a3 AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.line(), '+ ');
    c.send(`${Buffer.from('\0alice@example.com\0secret').toString('base64')}\r\n`);
    assert.match(await c.line(), /^a3 OK \[CAPABILITY IMAP4rev1 [^\]]*\] logged in/);
    c.destroy();
  });

  it('refuses commands of a later state with BAD, and wrong passwords with AUTHENTICATIONFAILED (RFC 5530)', async () => {
    const port = await serve();
    const c = await ImapClient.connect(port);
    await c.line();
    assert.match((await c.cmd('SELECT INBOX')).status, /^a1 BAD SELECT: log in first/);
    assert.match((await c.cmd('LOGIN alice@example.com wrong')).status, /^a2 NO \[AUTHENTICATIONFAILED\]/);
    assert.match((await c.cmd('LOGIN throttled@example.com x')).status, /^a3 NO \[UNAVAILABLE\]/);
    assert.match((await c.cmd('AUTHENTICATE PLAIN =')).status, /^a4 BAD malformed/);
    assert.match((await c.cmd('LOGIN alice@example.com secret')).status, /^a5 OK/);
    assert.match((await c.cmd('LOGIN alice@example.com secret')).status, /^a6 BAD/);
    assert.match((await c.cmd('FETCH 1 FLAGS')).status, /^a7 BAD FETCH: select a mailbox first/);
    const id = await c.cmd('ID ("name" "test")');
    assert.deepEqual(id.untagged, ['* ID ("name" "Postern")']);
    const en = await c.cmd('ENABLE CONDSTORE');
    assert.deepEqual(en.untagged, ['* ENABLED CONDSTORE']);
    const ns = await c.cmd('NAMESPACE');
    assert.deepEqual(ns.untagged, ['* NAMESPACE (("" "/")) NIL NIL']);
    c.send('z LOGOUT\r\n');
    assert.equal(await c.line(), '* BYE logging out');
    assert.match(await c.line(), /^z OK/);
    await c.waitClosed();
  });

  it('closes after too many errors', async () => {
    const port = await serve({ maxErrors: 3 });
    const c = await ImapClient.connect(port);
    await c.line();
    c.send('a FOO\r\nb FOO\r\nc FOO\r\n');
    assert.match(await c.line(), /^a BAD/);
    assert.match(await c.line(), /^b BAD/);
    assert.match(await c.line(), /^c BAD/);
    assert.match(await c.line(), /^\* BYE too many errors/);
    await c.waitClosed();
  });
});

describe('IMAP session: timers and literals', () => {
  it('logs out an idle client with BYE (RFC 9051 §5.4 autologout)', async () => {
    const port = await serve({ idleTimeoutMs: 200 });
    const c = await ImapClient.connect(port);
    await c.line();
    assert.equal(await c.line(), '* BYE autologout: idle for too long');
    await c.waitClosed();
  });

  it('a non-synchronising APPEND to a missing mailbox is read, then answered NO [TRYCREATE] (RFC 7888, RFC 9051 §6.3.12)', async () => {
    const port = await serve();
    const c = await loggedIn(port);
    c.send('n1 APPEND Missing {22+}\r\nSubject: small\r\n\r\nhi\r\n\r\nn2 NOOP\r\n');
    assert.match(await c.line(), /^n1 NO \[TRYCREATE\]/);
    assert.match(await c.line(), /^n2 OK/);
    c.destroy();
  });
});

describe('IMAP session: mailboxes', () => {
  it('LIST shows special use and children; CREATE, RENAME, DELETE, SUBSCRIBE, LSUB, STATUS (RFC 9051 §6.3, RFC 6154)', async () => {
    const port = await serve();
    const c = await loggedIn(port);
    const delim = await c.cmd('LIST "" ""');
    assert.deepEqual(delim.untagged, ['* LIST (\\Noselect) "/" ""']);
    assert.match((await c.cmd('CREATE Work/Projects')).status, /OK/);
    assert.match((await c.cmd('CREATE Work/Projects')).status, /NO \[ALREADYEXISTS\]/);
    const list = await c.cmd('LIST "" "*"');
    assert.deepEqual(list.untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasNoChildren \\Subscribed \\Archive) "/" Archive',
      '* LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" Drafts',
      '* LIST (\\HasNoChildren \\Subscribed \\Junk) "/" Junk',
      '* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" Trash',
      // RFC 3501 §6.3.3: CREATE made the superior too
      '* LIST (\\HasChildren) "/" Work',
      '* LIST (\\HasNoChildren) "/" Work/Projects',
    ]);
    const top = await c.cmd('LIST "" "%"');
    assert.equal(top.untagged.length, 7);
    assert.match((await c.cmd('SUBSCRIBE Work/Projects')).status, /OK/);
    const lsub = await c.cmd('LSUB "" "Work/*"');
    assert.deepEqual(lsub.untagged, ['* LSUB () "/" Work/Projects']);
    assert.match((await c.cmd('RENAME Work/Projects Done')).status, /OK/);
    const status = await c.cmd('STATUS Done (MESSAGES UIDNEXT UNSEEN)');
    assert.deepEqual(status.untagged, ['* STATUS Done (MESSAGES 0 UIDNEXT 1 UNSEEN 0)']);
    assert.match((await c.cmd('STATUS Work/Projects (MESSAGES)')).status, /NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('DELETE Done')).status, /OK/);
    assert.match((await c.cmd('DELETE INBOX')).status, /NO/);
    assert.match((await c.cmd('CREATE "Caf&AOk-"')).status, /OK/);
    const utf7 = await c.cmd('LIST "" "Caf*"');
    assert.deepEqual(utf7.untagged, ['* LIST (\\HasNoChildren) "/" Caf&AOk-']);
    c.destroy();
  });
});

describe('IMAP session: messages', () => {
  it('SELECT, FETCH summary items and byte-exact sections, \\Seen by BODY[], STORE, SEARCH, EXPUNGE (RFC 9051 §6.4)', async () => {
    await storage.mail.createMailbox(account.accountId, 'Box1');
    const prefix = 'Return-Path: <bob@example.org>\r\n';
    const d1 = await deliverTo(storage, account.accountId, MESSAGE, { mailbox: 'Box1', headerPrefix: prefix });
    const d2 = await deliverTo(storage, account.accountId, Buffer.from('Subject: two\r\n\r\nsecond\r\n'), {
      mailbox: 'Box1',
      flags: ['\\Flagged'],
    });
    const port = await serve();
    const c = await loggedIn(port);
    const sel = await c.cmd('SELECT Box1');
    assert.deepEqual(sel.untagged, [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)',
      '* 2 EXISTS',
      '* 0 RECENT',
      // RFC 3501 §6.3.1: the first unseen message
      '* OK [UNSEEN 1] message 1 is first unseen',
      `* OK [UIDVALIDITY ${d1.uidValidity}] UIDs valid`,
      `* OK [UIDNEXT ${d2.uid + 1}] predicted next UID`,
      `* OK [HIGHESTMODSEQ ${(await storage.mail.getMailbox(account.accountId, 'Box1'))!.highestModseq}] highest modseq`,
      `* OK [MAILBOXID (${(await storage.mail.getMailbox(account.accountId, 'Box1'))!.mailboxId})] mailbox id`,
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags kept',
    ]);
    assert.match(sel.status, /OK \[READ-WRITE\]/);

    const f = await c.cmd('FETCH 1:* (UID FLAGS RFC822.SIZE)');
    assert.deepEqual(f.untagged, [
      `* 1 FETCH (UID ${d1.uid} FLAGS () RFC822.SIZE ${d1.bytes.length})`,
      `* 2 FETCH (UID ${d2.uid} FLAGS (\\Flagged) RFC822.SIZE ${d2.bytes.length})`,
    ]);
    const env = await c.cmd('FETCH 1 (ENVELOPE BODYSTRUCTURE)');
    assert.match(
      env.untagged[0],
      /ENVELOPE \("Mon, 7 Feb 1994 21:52:25 -0800" "hello there" \(\("Bob" NIL "bob" "example.org"\)\)/,
    );
    assert.match(env.untagged[0], /BODYSTRUCTURE \(\("TEXT" "PLAIN" .*\)\("TEXT" "HTML" .*\) "MIXED"/);

    const peek = await c.cmd(`UID FETCH ${d1.uid} (BODY.PEEK[])`);
    const header = `* 1 FETCH (UID ${d1.uid} BODY[] {${d1.bytes.length}}\r\n`;
    assert.equal(peek.untagged[0], `${header}${d1.bytes.toString('latin1')})`);
    const flagsAfterPeek = await c.cmd('FETCH 1 FLAGS');
    assert.deepEqual(flagsAfterPeek.untagged, ['* 1 FETCH (FLAGS ())']);

    const text = MESSAGE.subarray(MESSAGE.indexOf('\r\n\r\n') + 4);
    const body = await c.cmd('FETCH 1 (BODY[TEXT])');
    assert.equal(
      body.untagged[0],
      `* 1 FETCH (BODY[TEXT] {${text.length}}\r\n${text.toString('latin1')} FLAGS (\\Seen))`,
    );
    const part = await c.cmd(
      'FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[]<0.10>)',
    );
    assert.equal(
      part.untagged[0],
      '* 1 FETCH (BODY[1] {12}\r\nfirst part \xe9 BODY[2.MIME] {27}\r\nContent-Type: text/html\r\n\r\n' +
        ' BODY[HEADER.FIELDS (Subject)] {24}\r\nSubject: hello there\r\n\r\n BODY[]<0> {10}\r\nReturn-Pat)',
    );

    const store = await c.cmd('STORE 1:2 +FLAGS (\\Deleted $Work)');
    // RFC 3501 §7.2.6: a new keyword is told in FLAGS and PERMANENTFLAGS before a FETCH carries it
    assert.deepEqual(store.untagged, [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] flags kept',
      '* 1 FETCH (FLAGS ($Work \\Deleted \\Seen))',
      '* 2 FETCH (FLAGS ($Work \\Deleted \\Flagged))',
    ]);
    assert.deepEqual((await c.cmd('STORE 2 -FLAGS.SILENT (\\Deleted)')).untagged, []);
    assert.deepEqual((await c.cmd('SEARCH DELETED')).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd('SEARCH OR FLAGGED SUBJECT hello')).untagged, ['* SEARCH 1 2']);
    assert.deepEqual((await c.cmd('UID SEARCH FROM bob NOT KEYWORD $Nothing')).untagged, [`* SEARCH ${d1.uid}`]);
    assert.deepEqual((await c.cmd('SEARCH LARGER 100 UNSEEN')).untagged, ['* SEARCH']);
    assert.deepEqual((await c.cmd('SEARCH SINCE 1-Jan-2000 HEADER Message-ID ""')).untagged, ['* SEARCH']);
    assert.deepEqual((await c.cmd('SEARCH BODY second')).untagged, ['* SEARCH 1 2']);
    assert.match((await c.cmd('FETCH 3 FLAGS')).status, /BAD/);

    const ex = await c.cmd('EXPUNGE');
    assert.deepEqual(ex.untagged, ['* 1 EXPUNGE']);
    assert.deepEqual((await c.cmd(`FETCH 1 UID`)).untagged, [`* 1 FETCH (UID ${d2.uid})`]);
    assert.match((await c.cmd('CLOSE')).status, /OK/);
    assert.match((await c.cmd('FETCH 1 UID')).status, /BAD/);
    c.destroy();
  });

  it("tells another session's changes at NOOP, but no EXPUNGE during FETCH (RFC 9051 §7.5.1)", async () => {
    await storage.mail.createMailbox(account.accountId, 'Box2');
    const d1 = await deliverTo(storage, account.accountId, Buffer.from('Subject: a\r\n\r\na\r\n'), { mailbox: 'Box2' });
    const port = await serve();
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    await a.cmd('SELECT Box2');
    await b.cmd('SELECT Box2');
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    const d2 = await deliverTo(storage, account.accountId, Buffer.from('Subject: b\r\n\r\nb\r\n'), { mailbox: 'Box2' });
    // FETCH by number: the new message is told, the expunge is not; message 1 is still d1's number.
    const f = await a.cmd('FETCH 1 UID');
    assert.deepEqual(f.untagged, ['* 2 EXISTS', `* 1 FETCH (UID ${d1.uid})`]);
    const noop = await a.cmd('NOOP');
    assert.deepEqual(noop.untagged, ['* 1 EXPUNGE']);
    assert.deepEqual((await a.cmd('FETCH 1 UID')).untagged, [`* 1 FETCH (UID ${d2.uid})`]);
    assert.notEqual(d1.uid, d2.uid);
    const examine = await b.cmd('EXAMINE Box2');
    assert.match(examine.untagged[0], /^\* OK \[CLOSED\]/);
    assert.match(examine.status, /OK \[READ-ONLY\]/);
    assert.match((await b.cmd('STORE 1 +FLAGS (\\Seen)')).status, /NO \[READ-ONLY\]/);
    a.destroy();
    b.destroy();
  });

  it('COPY answers COPYUID; MOVE sends COPYUID and EXPUNGE; a missing target is TRYCREATE (RFC 4315 §3, RFC 6851 §3)', async () => {
    await storage.mail.createMailbox(account.accountId, 'Src');
    await storage.mail.createMailbox(account.accountId, 'Dst');
    const dst = (await storage.mail.getMailbox(account.accountId, 'Dst'))!;
    const a = await deliverTo(storage, account.accountId, Buffer.from('Subject: a\r\n\r\na\r\n'), { mailbox: 'Src' });
    const b = await deliverTo(storage, account.accountId, Buffer.from('Subject: b\r\n\r\nb\r\n'), { mailbox: 'Src' });
    const port = await serve();
    const c = await loggedIn(port);
    await c.cmd('SELECT Src');
    assert.match((await c.cmd('COPY 1 Nowhere')).status, /NO \[TRYCREATE\]/);
    const copy = await c.cmd('COPY 1:2 Dst');
    assert.match(copy.status, new RegExp(`OK \\[COPYUID ${dst.uidValidity} ${a.uid}:${b.uid} 1:2\\]`));
    const move = await c.cmd(`UID MOVE ${b.uid} Dst`);
    assert.deepEqual(move.untagged, [`* OK [COPYUID ${dst.uidValidity} ${b.uid} 3] moved`, '* 2 EXPUNGE']);
    assert.match(move.status, /OK/);
    const status = await c.cmd('STATUS Dst (MESSAGES)');
    assert.deepEqual(status.untagged, ['* STATUS Dst (MESSAGES 3)']);
    assert.deepEqual((await c.cmd('SEARCH ALL')).untagged, ['* SEARCH 1']);
    c.destroy();
  });

  it('IDLE tells a new message and an expunge when the notifier hints, and ends at DONE (RFC 2177, RFC 9051 §6.3.13)', async () => {
    await storage.mail.createMailbox(account.accountId, 'Idle');
    const box = (await storage.mail.getMailbox(account.accountId, 'Idle'))!;
    const notifier = new InProcessChangeNotifier();
    // a poll far beyond the test: only the notifier's hint can wake the session
    const port = await serve({ idlePollMs: 3_600_000 }, notifier);
    const c = await loggedIn(port);
    await c.cmd('SELECT Idle');
    c.send('i1 IDLE\r\n');
    assert.equal(await c.line(), '+ idling');
    const d = await deliverTo(storage, account.accountId, Buffer.from('Subject: i\r\n\r\ni\r\n'), { mailbox: 'Idle' });
    notifier.publish({
      type: 'messages',
      accountId: account.accountId,
      change: { mailboxId: box.mailboxId, modseq: 0, kind: 'append', uids: [d.uid] },
    });
    assert.equal(await c.line(), '* 1 EXISTS');
    await storage.mail.expunge(box, [d.uid]);
    notifier.publish({
      type: 'messages',
      accountId: account.accountId,
      change: { mailboxId: box.mailboxId, modseq: 0, kind: 'expunge', uids: [d.uid] },
    });
    assert.equal(await c.line(), '* 1 EXPUNGE');
    c.send('DONE\r\n');
    assert.match(await c.line(), /^i1 OK IDLE terminated/);
    assert.match((await c.cmd('NOOP')).status, /OK/);
    c.destroy();
  });

  it('IDLE without a notifier catches up on its poll timer', async () => {
    await storage.mail.createMailbox(account.accountId, 'Poll');
    const port = await serve({ idlePollMs: 50 });
    const c = await loggedIn(port);
    await c.cmd('SELECT Poll');
    c.send('i1 IDLE\r\n');
    assert.equal(await c.line(), '+ idling');
    await deliverTo(storage, account.accountId, Buffer.from('Subject: p\r\n\r\np\r\n'), { mailbox: 'Poll' });
    assert.equal(await c.line(), '* 1 EXISTS');
    c.send('DONE\r\n');
    assert.match(await c.line(), /^i1 OK/);
    c.destroy();
  });

  it('APPEND streams the literal, answers APPENDUID, and FETCH gives the same octets; TRYCREATE comes before + (RFC 9051 §6.3.12, RFC 4315)', async () => {
    await storage.mail.createMailbox(account.accountId, 'Drafts2');
    const box = (await storage.mail.getMailbox(account.accountId, 'Drafts2'))!;
    const port = await serve();
    const c = await loggedIn(port);
    const message = Buffer.from(
      `Subject: draft\r\nFrom: alice@example.com\r\n\r\n${'x'.repeat(70_000)}\r\n8-bit \xe9\r\n`,
      'latin1',
    );
    c.send(`a1 APPEND Drafts2 (\\Draft \\Seen) "05-Mar-2024 10:11:12 +0100" {${message.length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(message);
    c.send('\r\n');
    const status = await c.line();
    assert.match(status, new RegExp(`^a1 OK \\[APPENDUID ${box.uidValidity} 1\\] APPEND completed`));
    // LITERAL+: a non-synchronising literal needs no +
    c.send('a2 APPEND Drafts2 {22+}\r\nSubject: small\r\n\r\nhi\r\n\r\n');
    assert.match(await c.line(), /^a2 OK \[APPENDUID \d+ 2\]/);
    c.send('a3 APPEND Nowhere {10}\r\n');
    assert.match(await c.line(), /^a3 NO \[TRYCREATE\]/);
    // RFC 7889 §4: past APPENDLIMIT the literal is refused before it is sent
    c.send('a4 APPEND Drafts2 {52428801}\r\n');
    assert.match(await c.line(), /^a4 NO \[TOOBIG\]/);
    const st = await c.cmd('STATUS Drafts2 (MESSAGES APPENDLIMIT)');
    assert.deepEqual(st.untagged, ['* STATUS Drafts2 (MESSAGES 2 APPENDLIMIT 52428800)']);
    await c.cmd('SELECT Drafts2');
    const f = await c.cmd('FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] ENVELOPE)');
    assert.equal(
      f.untagged[0],
      `* 1 FETCH (FLAGS (\\Draft \\Seen) INTERNALDATE "05-Mar-2024 09:11:12 +0000" RFC822.SIZE ${message.length} ` +
        `BODY[] {${message.length}}\r\n${message.toString('latin1')} ENVELOPE (NIL "draft" (` +
        '(NIL NIL "alice" "example.com")) ((NIL NIL "alice" "example.com")) ((NIL NIL "alice" "example.com")) NIL NIL NIL NIL NIL))',
    );
    c.destroy();
  });

  it('CONDSTORE: HIGHESTMODSEQ, FETCH MODSEQ and CHANGEDSINCE, STORE UNCHANGEDSINCE with MODIFIED, SEARCH MODSEQ (RFC 7162 §3.1)', async () => {
    await storage.mail.createMailbox(account.accountId, 'Cond');
    const d1 = await deliverTo(storage, account.accountId, Buffer.from('Subject: 1\r\n\r\n1\r\n'), { mailbox: 'Cond' });
    const d2 = await deliverTo(storage, account.accountId, Buffer.from('Subject: 2\r\n\r\n2\r\n'), { mailbox: 'Cond' });
    const [m1, m2] = await storage.mail.listIndex((await storage.mail.getMailbox(account.accountId, 'Cond'))!);
    const port = await serve();
    const c = await loggedIn(port);
    const sel = await c.cmd('SELECT Cond (CONDSTORE)');
    assert.ok(sel.untagged.includes(`* OK [HIGHESTMODSEQ ${m2.modseq}] highest modseq`), sel.untagged.join('\n'));
    assert.deepEqual((await c.cmd('FETCH 1:* (FLAGS)')).untagged, [
      `* 1 FETCH (FLAGS () MODSEQ (${m1.modseq}))`,
      `* 2 FETCH (FLAGS () MODSEQ (${m2.modseq}))`,
    ]);
    const changed = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${m1.modseq})`);
    assert.deepEqual(changed.untagged, [`* 2 FETCH (UID ${d2.uid} FLAGS () MODSEQ (${m2.modseq}))`]);
    const store = await c.cmd(`STORE 1:2 (UNCHANGEDSINCE ${m1.modseq}) +FLAGS.SILENT (\\Flagged)`);
    assert.equal(store.untagged.length, 1);
    assert.match(store.untagged[0], /^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)$/);
    assert.match(store.status, /OK \[MODIFIED 2\]/);
    const newModseq = Number(/MODSEQ \((\d+)\)/.exec(store.untagged[0])![1]);
    assert.ok(newModseq > m2.modseq);
    assert.deepEqual((await c.cmd(`SEARCH MODSEQ ${m2.modseq + 1}`)).untagged, [`* SEARCH 1 (MODSEQ ${newModseq})`]);
    const st = await c.cmd('STATUS Cond (HIGHESTMODSEQ)');
    assert.deepEqual(st.untagged, [`* STATUS Cond (HIGHESTMODSEQ ${newModseq})`]);
    assert.notEqual(d1.uid, d2.uid);
    c.destroy();
  });
});
