/**
 * UTF8=ACCEPT (RFC 6855) and the UTF-8 mailbox names of IMAP4rev2 (RFC 9051 §5.1) next to IMAP4rev1's
 * modified UTF-7 (RFC 3501 §5.1.3), on one gateway in one run: names, 8-bit quoted strings, SEARCH CHARSET,
 * APPEND UTF8, and Python's imaplib as a client nobody here wrote. Real sockets, real storage, exact
 * responses (read as latin1 by the test client, so UTF-8 lines are decoded with `utf8()`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Account } from '../../lib/core/ports.ts';
import {
  bytes,
  data,
  deliverTo,
  type ImapClient,
  imapflow,
  imaplib,
  loggedInClient,
  typ,
} from '../protocol/imap-support.ts';
import { startTestGateway } from '../support/gateway.ts';

const tg = await startTestGateway();

async function newUser() {
  const user = `utf8-${randomBytes(4).toString('hex')}@example.com`;
  const pass = `pw${randomBytes(4).toString('hex')}`;
  const account: Account = await tg.addAccount(user, pass);
  const login = (enable: string[] = []): Promise<ImapClient> => loggedInClient(tg.port('imap'), user, pass, enable);
  return { account, user, pass, login };
}

/** A response line as the UTF-8 it is. */
const utf8 = (line: string): string => Buffer.from(line, 'latin1').toString('utf8');
const lines = (r: { untagged: string[] }): string[] => r.untagged.map(utf8);

describe('mailbox names: modified UTF-7 for IMAP4rev1, UTF-8 after UTF8=ACCEPT or IMAP4rev2', () => {
  it('one mailbox, each client its own spelling (RFC 3501 §5.1.3, RFC 6855 §3, RFC 9051 §5.1)', async () => {
    const { login } = await newUser();
    const rev1 = await login();
    const accept = await login(['UTF8=ACCEPT']);
    const rev2 = await login(['IMAP4rev2']);
    assert.match((await rev1.cmd('CREATE "Caf&AOk-"')).status, /OK/);
    assert.deepEqual(lines(await accept.cmd('LIST "" "Caf*"')), ['* LIST (\\HasNoChildren) "/" "Café"']);
    assert.match((await accept.cmd('CREATE "Café/日本"')).status, /OK/);
    // U+65E5 U+672C as UTF-16 is 65 E5 67 2C, modified base64 "ZeVnLA"
    assert.deepEqual((await rev1.cmd('LIST "" "Caf*"')).untagged, [
      '* LIST (\\HasChildren) "/" Caf&AOk-',
      '* LIST (\\HasNoChildren) "/" Caf&AOk-/&ZeVnLA-',
    ]);
    assert.deepEqual(lines(await rev2.cmd('LIST "" "Caf*"')), [
      '* LIST (\\HasChildren) "/" "Café"',
      '* LIST (\\HasNoChildren) "/" "Café/日本"',
    ]);
    const sel = await rev2.cmd('SELECT "Café/日本"');
    assert.ok(lines(sel).includes('* LIST (\\HasNoChildren) "/" "Café/日本"'), lines(sel).join('\n'));
    assert.deepEqual(lines(await accept.cmd('STATUS "Café" (MESSAGES)')), ['* STATUS "Café" (MESSAGES 0)']);
    assert.deepEqual((await rev1.cmd('STATUS Caf&AOk- (MESSAGES)')).untagged, ['* STATUS Caf&AOk- (MESSAGES 0)']);
    // In UTF-8 mode "&" is a character like any other; IMAP4rev1 writes it "&-"
    assert.match((await accept.cmd('CREATE "R&D"')).status, /OK/);
    assert.deepEqual((await rev1.cmd('LIST "" "R*"')).untagged, ['* LIST (\\HasNoChildren) "/" R&-D']);
    assert.match((await rev1.cmd('CREATE "R&D2"')).status, /BAD .*modified UTF-7/);
    for (const c of [rev1, accept, rev2]) c.destroy();
  });

  it('a denormalized name is the NFC mailbox; rev2 CREATE and SELECT tell OLDNAME; C1 controls and U+2028 are refused (RFC 9051 §5.1, §6.3.2, §6.3.4; RFC 6855 §3)', async () => {
    const { login } = await newUser();
    const nfd = 'Fiance\u0301';
    const accept = await login(['UTF8=ACCEPT']);
    assert.match((await accept.cmd(`CREATE "${nfd}"`)).status, /OK/);
    // UTF8=ACCEPT alone keeps RFC 3501's LIST syntax: no extended data
    assert.deepEqual((await accept.cmd(`CREATE "Cafe\u0301"`)).untagged, []);
    assert.deepEqual(lines(await accept.cmd('LIST "" "Fianc*"')), ['* LIST (\\HasNoChildren) "/" "Fiancé"']);
    // a pattern is matched in NFC too: the denormalized spelling lists the mailbox
    assert.deepEqual(lines(await accept.cmd(`LIST "" "${nfd}"`)), ['* LIST (\\HasNoChildren) "/" "Fiancé"']);
    assert.match((await accept.cmd('CREATE "Fiancé"')).status, /NO \[ALREADYEXISTS\]/);
    const rev2 = await login(['IMAP4rev2']);
    // RFC 9051 §6.3.4: CREATE of a denormalized name SHOULD tell the stored name with OLDNAME
    assert.deepEqual(lines(await rev2.cmd(`CREATE "${nfd}/x"`)), [`* LIST () "/" "Fiancé/x" ("OLDNAME" ("${nfd}/x"))`]);
    const sel = await rev2.cmd(`SELECT "${nfd}"`);
    assert.ok(lines(sel).includes(`* LIST (\\HasChildren) "/" "Fiancé" ("OLDNAME" ("${nfd}"))`), lines(sel).join('\n'));
    assert.match(sel.status, /OK \[READ-WRITE\]/);
    // §6.3.6 RENAME and §6.3.5 DELETE the same way (DELETE's name is \NonExistent now); rev1 and
    // UTF8=ACCEPT alone get no extended LIST data
    assert.deepEqual(lines(await rev2.cmd(`RENAME "${nfd}/x" "${nfd}/y"`)), [
      `* LIST () "/" "Fiancé/y" ("OLDNAME" ("${nfd}/y"))`,
    ]);
    assert.deepEqual(lines(await accept.cmd(`RENAME "${nfd}/y" "${nfd}/z"`)), []);
    assert.deepEqual(lines(await rev2.cmd(`DELETE "${nfd}/z"`)), [
      `* LIST (\\NonExistent) "/" "Fiancé/z" ("OLDNAME" ("${nfd}/z"))`,
    ]);
    assert.deepEqual(lines(await rev2.cmd('CREATE "Plain"')), []);
    assert.deepEqual(lines(await rev2.cmd('RENAME "Plain" "Plain2"')), []);
    assert.deepEqual(lines(await rev2.cmd('DELETE "Plain2"')), []);
    assert.match((await accept.cmd('CREATE "a\u2028b"')).status, /NO \[CANNOT\]/);
    assert.match((await accept.cmd('CREATE "a\u0085b"')).status, /NO \[CANNOT\]/);
    // RFC 6855 §3: octets that are not UTF-8 in a quoted string are BAD
    accept.send(Buffer.concat([Buffer.from('x1 CREATE "a'), Buffer.from([0xc3, 0x28]), Buffer.from('"\r\n')]));
    assert.match(await accept.until('x1').then((r) => r.status), /^x1 BAD/);
    accept.destroy();
    rev2.destroy();
  });
});

describe('UTF-8 strings in responses and SEARCH', () => {
  it('UTF-8 goes quoted only after ENABLE UTF8=ACCEPT or IMAP4rev2; IMAP4rev1 gets a literal (RFC 6855 §3, RFC 9051 Appendix A)', async () => {
    const { account, login } = await newUser();
    await deliverTo(tg.storage, account.accountId, Buffer.from('Subject: Grüße\r\n\r\nhallo\r\n'));
    const envelope = (subject: string) => `* 1 FETCH (ENVELOPE (NIL ${subject} NIL NIL NIL NIL NIL NIL NIL NIL))`;
    const rev1 = await login();
    const accept = await login(['UTF8=ACCEPT']);
    const rev2 = await login(['IMAP4rev2']);
    for (const c of [rev1, accept, rev2]) await c.cmd('EXAMINE INBOX');
    assert.deepEqual(lines(await rev1.cmd('FETCH 1 (ENVELOPE)')), [envelope('{7}\r\nGrüße')]);
    assert.deepEqual(lines(await accept.cmd('FETCH 1 (ENVELOPE)')), [envelope('"Grüße"')]);
    assert.deepEqual(lines(await rev2.cmd('FETCH 1 (ENVELOPE)')), [envelope('"Grüße"')]);

    // RFC 6855 §3: after UTF8=ACCEPT a SEARCH with CHARSET SHOULD be BAD; strings are UTF-8 without it
    assert.match((await accept.cmd('SEARCH CHARSET UTF-8 SUBJECT "Grüße"')).status, /BAD/);
    assert.deepEqual((await accept.cmd('SEARCH SUBJECT "Grüße"')).untagged, ['* SEARCH 1']);
    // IMAP4rev1 labels 8-bit search strings with CHARSET (here in a LITERAL- literal)
    rev1.send('s1 SEARCH CHARSET UTF-8 SUBJECT {7+}\r\nGrüße\r\n');
    assert.deepEqual((await rev1.until('s1')).untagged, ['* SEARCH 1']);
    for (const c of [rev1, accept, rev2]) c.destroy();
  });
});

describe('APPEND with UTF-8 headers (RFC 6855 §4)', () => {
  const message = Buffer.from('From: Jörg <j@example.org>\r\nSubject: Grüße\r\n\r\nHallo\r\n');

  it('UTF8 (~{n}) is BAD before ENABLE UTF8=ACCEPT, and 8-bit header octets are NO; after ENABLE both are stored', async () => {
    const { account, login } = await newUser();
    const rev1 = await login();
    rev1.send(`a1 APPEND INBOX UTF8 (~{${message.length}}\r\n`);
    assert.equal(await rev1.line(), 'a1 BAD [CLIENTBUG] APPEND UTF8 needs ENABLE UTF8=ACCEPT');
    rev1.send(`a2 APPEND INBOX {${message.length}}\r\n`);
    assert.match(await rev1.line(), /^\+ /);
    rev1.send(Buffer.concat([message, Buffer.from('\r\n')]));
    assert.equal(await rev1.line(), 'a2 NO 8-bit octets in the header need ENABLE UTF8=ACCEPT');
    // 8-bit octets in the body alone are fine (RFC 3501 literals are 8-bit)
    const body8 = Buffer.from('Subject: plain\r\n\r\nGrüße\r\n');
    rev1.send(Buffer.concat([Buffer.from(`a3 APPEND INBOX {${body8.length}+}\r\n`), body8, Buffer.from('\r\n')]));
    assert.match(await rev1.line(), /^a3 OK \[APPENDUID \d+ 1\]/);

    const accept = await login(['UTF8=ACCEPT']);
    accept.send(`b1 APPEND INBOX UTF8 (~{${message.length}}\r\n`);
    assert.match(await accept.line(), /^\+ /);
    accept.send(Buffer.concat([message, Buffer.from(')\r\n')]));
    const box = (await tg.storage.mail.getMailbox(account.accountId, 'INBOX'))!;
    assert.equal(await accept.line(), `b1 OK [APPENDUID ${box.uidValidity} 2] APPEND completed`);
    // IMAP4rev2 allows UTF-8 headers in a plain literal (RFC 9051 Appendix E item 16). The same octets again:
    // `accept` moves on first, or this would count as a retry of b1 whose answer was lost (appendRetry.ts)
    await accept.cmd('NOOP');
    const rev2 = await login(['IMAP4rev2']);
    rev2.send(Buffer.concat([Buffer.from(`c1 APPEND INBOX {${message.length}+}\r\n`), message, Buffer.from('\r\n')]));
    assert.match(await rev2.line(), /^c1 OK \[APPENDUID \d+ 3\]/);

    await accept.cmd('EXAMINE INBOX');
    const f = await accept.cmd('FETCH 2:3 (BODY.PEEK[] ENVELOPE)');
    const text = message.toString('utf8');
    const env = '("Jörg" NIL "j" "example.org")';
    const expected = (n: number) =>
      `* ${n} FETCH (BODY[] {${message.length}}\r\n${text} ENVELOPE (NIL "Grüße" (${env}) (${env}) (${env}) NIL NIL NIL NIL NIL))`;
    assert.deepEqual(lines(f), [expected(2), expected(3)]);
    for (const c of [rev1, accept, rev2]) c.destroy();
  });
});

describe('UTF8=ACCEPT with Python imaplib', () => {
  it("enable('UTF8=ACCEPT') then UTF-8 names in CREATE, LIST, SELECT, STATUS; without it modified UTF-7 (RFC 6855 §3)", async () => {
    const { user, pass } = await newUser();
    const port = tg.port('imap');
    const r = await imaplib({
      mode: 'plain',
      port,
      steps: [
        ['login', user, pass],
        ['enable', 'UTF8=ACCEPT'],
        ['create', '"Grüße"'],
        ['list', '""', '"Gr*"'],
        ['select', '"Grüße"'],
        ['status', '"Grüße"', '(MESSAGES UIDNEXT)'],
        ['logout'],
      ],
    });
    assert.equal(r.exception, undefined);
    assert.ok(r.capabilities.includes('ENABLE'));
    const [login, enable, create, list, select, status] = r.steps;
    assert.equal(typ(login), 'OK');
    assert.deepEqual(enable, ['OK', [{ b64: Buffer.from('ENABLE completed').toString('base64') }]]);
    assert.equal(typ(create), 'OK');
    assert.deepEqual(
      data(list).map((v) => bytes(v).toString('utf8')),
      ['(\\HasNoChildren) "/" "Grüße"'],
    );
    assert.equal(typ(select), 'OK');
    assert.deepEqual(
      data(status).map((v) => bytes(v).toString('utf8')),
      ['"Grüße" (MESSAGES 0 UIDNEXT 1)'],
    );

    const legacy = await imaplib({
      mode: 'plain',
      port,
      steps: [
        ['login', user, pass],
        ['list', '""', 'Gr*'],
      ],
    });
    // ü ß as UTF-16 are 00 FC 00 DF, modified base64 "APwA3w"
    assert.deepEqual(
      data(legacy.steps[1]).map((v) => bytes(v).toString()),
      ['(\\HasNoChildren) "/" Gr&APwA3w-e'],
    );
  });
});

describe('UTF-8 mailbox names with imapflow', () => {
  it('imapflow enables IMAP4rev2 and UTF8=ACCEPT itself, then creates, lists, opens and appends to a UTF-8 name (RFC 9051 §5.1)', async () => {
    const { user, pass, login } = await newUser();
    const client = imapflow(tg.port('imap'), { user, pass }, 'starttls');
    await client.connect();
    const name = 'Grüße/日本';
    try {
      assert.ok(client.enabled.has('IMAP4REV2') && client.enabled.has('UTF8=ACCEPT'), [...client.enabled].join(' '));
      await client.mailboxCreate(name);
      assert.ok((await client.list()).some((b) => b.path === name));
      // a UTF-8 header in a plain literal: fine once UTF-8 is enabled (RFC 6855 §4 refuses it only before)
      const message = Buffer.from('Subject: Grüße aus Tokio\r\n\r\nhallo\r\n');
      assert.equal((await client.append(name, message)) && true, true);
      const opened = await client.mailboxOpen(name);
      assert.equal(opened.path, name);
      assert.equal(opened.exists, 1);
      const msg = await client.fetchOne('1', { envelope: true, source: true });
      assert.equal(msg ? msg.envelope?.subject : undefined, 'Grüße aus Tokio');
      assert.deepEqual(msg ? msg.source : undefined, message);
    } finally {
      await client.logout();
    }
    // U+65E5 U+672C: "&ZeVnLA-"; ü ß: "&APwA3w-"; imapflow subscribes what it creates, not the parent, which
    // CREATE made as a superior (RFC 3501 §6.3.3)
    const rev1 = await login();
    assert.deepEqual((await rev1.cmd('LIST "" "Gr*"')).untagged, [
      '* LIST (\\HasChildren) "/" Gr&APwA3w-e',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Gr&APwA3w-e/&ZeVnLA-',
    ]);
    rev1.destroy();
  });
});
