/**
 * IMAP compliance: command syntax (RFC 3501 §4 and §9, RFC 9051 §4 and §9, RFC 7888 literals) over a real
 * socket: literals of each kind where they may stand, quoted strings and their escapes, atoms and tags with
 * unusual characters, case, spacing, missing arguments, unknown commands, states, long lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImapClient } from '../protocol/imap-support.ts';
import { capabilities, complianceServer, crlf, PASSWORDS, USER } from './imap-compliance-support.ts';

const env = complianceServer();

async function greeted(): Promise<ImapClient> {
  const c = await ImapClient.connect(env.port);
  assert.match(await c.line(), /^\* OK /);
  return c;
}

describe('IMAP compliance: literals (RFC 9051 §4.3, RFC 7888)', () => {
  it('synchronising literals for the LOGIN user name and password: + before each (RFC 9051 §7.5)', async () => {
    const c = await greeted();
    c.send(`l1 LOGIN {${USER.length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    const password = PASSWORDS[1];
    c.send(`${USER} {${Buffer.byteLength(password)}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(`${password}\r\n`);
    assert.match(await c.line(), /^l1 OK \[CAPABILITY IMAP4rev1 /);
    c.destroy();
  });

  it('non-synchronising literals {n+} need no + under LITERAL- up to 4096 octets (RFC 7888 §5)', async () => {
    const c = await greeted();
    const caps = await capabilities(c);
    assert.ok(caps.includes('LITERAL-') || caps.includes('LITERAL+'), caps.join(' '));
    const password = PASSWORDS[1];
    c.send(`l1 LOGIN {${USER.length}+}\r\n${USER} {${Buffer.byteLength(password)}+}\r\n${password}\r\n`);
    assert.match(await c.line(), /^l1 OK /);
    c.destroy();
  });

  it('LITERAL-: a non-synchronising literal over 4096 octets is BAD [TOOBIG], its octets are not commands (RFC 7888 §5)', async () => {
    const c = await greeted();
    const caps = await capabilities(c);
    if (caps.includes('LITERAL+')) return; // no limit then (RFC 7888 §4)
    const big = `x${'\r\nz1 LOGOUT'.repeat(500)}`;
    c.send(`l1 LOGIN {${big.length}+}\r\n${big} x\r\nl2 NOOP\r\n`);
    assert.match(await c.line(), /^l1 BAD \[TOOBIG\] /);
    assert.match(await c.line(), /^l2 OK /);
    c.destroy();
  });

  it('a synchronising literal the server will not take is answered instead of +, and the command ends (RFC 9051 §7.5)', async () => {
    const c = await greeted();
    c.send('l1 LOGIN {1000000}\r\n');
    assert.match(await c.line(), /^l1 (BAD|NO) /);
    assert.match((await c.cmd('NOOP', 'l2')).status, /^l2 OK /);
    c.destroy();
  });

  it('a zero-length literal is an empty string, in LOGIN and in SEARCH (RFC 9051 §4.3)', async () => {
    await env.mailboxWith('Lit0', ['Subject: one\r\n\r\n1\r\n', 'Subject: two\r\n\r\n2\r\n']);
    const c = await greeted();
    c.send(`l1 LOGIN ${USER} {0}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send('\r\n');
    assert.match(await c.line(), /^l1 NO \[AUTHENTICATIONFAILED\] /);
    assert.match((await c.cmd(`LOGIN ${USER} secret`, 'l2')).status, /^l2 OK /);
    await c.cmd('SELECT Lit0');
    c.send('s1 SEARCH SUBJECT {0}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('\r\n');
    assert.deepEqual((await c.until('s1')).untagged, ['* SEARCH 1 2']);
    c.destroy();
  });

  it('a literal followed by more arguments, and an 8-bit UTF-8 literal with CHARSET (RFC 9051 §6.4.4)', async () => {
    await env.mailboxWith('LitMore', [
      'From: Bob <bob@example.org>\r\nSubject: hello world\r\n\r\n1\r\n',
      'From: Carol <carol@example.org>\r\nSubject: hello again\r\n\r\n2\r\n',
      Buffer.from('From: Dan <dan@example.org>\r\nSubject: =?UTF-8?Q?caf=C3=A9?= time\r\n\r\n3\r\n'),
    ]);
    const c = await env.login();
    await c.cmd('SELECT LitMore');
    c.send('s1 SEARCH SUBJECT {5}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('hello FROM carol\r\n');
    assert.deepEqual((await c.until('s1')).untagged, ['* SEARCH 2']);
    const cafe = Buffer.from('café', 'utf8');
    c.send(`s2 SEARCH CHARSET UTF-8 SUBJECT {${cafe.length}+}\r\n`);
    c.send(Buffer.concat([cafe, Buffer.from(' ALL\r\n')]));
    assert.deepEqual((await c.until('s2')).untagged, ['* SEARCH 3']);
    c.destroy();
  });
});

describe('IMAP compliance: strings, atoms and tags (RFC 9051 §4.1-4.3, §9)', () => {
  it('quoted strings with \\" and \\\\ escapes (RFC 9051 §4.3 quoted-specials)', async () => {
    const c = await greeted();
    const quoted = `"${PASSWORDS[1].replace(/[\\"]/g, (m) => `\\${m}`)}"`;
    assert.match((await c.cmd(`LOGIN "${USER}" ${quoted}`, 'q1')).status, /^q1 OK /);
    c.destroy();
  });

  it('a backslash before any other character in a quoted string is BAD (RFC 9051 §9 QUOTED-CHAR)', async () => {
    const c = await greeted();
    assert.match((await c.cmd(`LOGIN "${USER}" "sec\\ret"`, 'q1')).status, /^q1 BAD /);
    assert.match((await c.cmd('NOOP', 'q2')).status, /^q2 OK /);
    c.destroy();
  });

  it('an unterminated quoted string is BAD and the next command still works', async () => {
    const c = await greeted();
    assert.match((await c.cmd(`LOGIN "${USER} secret`, 'q1')).status, /^q1 BAD /);
    assert.match((await c.cmd('NOOP', 'q2')).status, /^q2 OK /);
    c.destroy();
  });

  it("atoms with every ATOM-CHAR punctuation, and ']' in an astring, round-trip through CREATE and LIST (RFC 9051 §9)", async () => {
    const c = await env.login();
    // '&' is written '&-' in modified UTF-7 (RFC 3501 §5.1.3)
    const name = "odd!#$&-'+,-.:;<=>?@^_`|~]x";
    assert.match((await c.cmd(`CREATE ${name}`, 'c1')).status, /^c1 OK /);
    const list = await c.cmd(`LIST "" "odd*"`);
    assert.deepEqual(list.untagged, [`* LIST (\\HasNoChildren) "/" ${name}`]);
    c.destroy();
  });

  it("a tag may hold any ASTRING-CHAR but '+': the answer carries it exactly (RFC 9051 §9 tag)", async () => {
    const c = await greeted();
    for (const tag of ["A.b-c_d!#$&'~:;<=>?@^|]", '0', 'x'.repeat(200)]) {
      assert.equal((await c.cmd('NOOP', tag)).status, `${tag} OK NOOP completed`);
    }
    c.destroy();
  });

  it("a tag with '+', '*', '%' or '(' is not a tag: untagged BAD, and the session goes on (RFC 9051 §7.1.3)", async () => {
    const c = await greeted();
    for (const tag of ['a+b', '*', 'a%', '+']) {
      c.send(`${tag} NOOP\r\n`);
      assert.match(await c.line(), /^\* BAD /);
    }
    // '(' ends the atom: the tag is 'a', and the command is then malformed
    c.send('a(b NOOP\r\n');
    assert.match(await c.line(), /^(\*|a) BAD /);
    assert.match((await c.cmd('NOOP', 'ok')).status, /^ok OK /);
    c.destroy();
  });
});

describe('IMAP compliance: command names, spacing, arguments, states (RFC 9051 §6, §9)', () => {
  it('command names and keywords are case-insensitive (RFC 9051 §9 note 1)', async () => {
    await env.mailboxWith('Lower', ['Subject: low\r\n\r\nx\r\n']);
    const c = await greeted();
    assert.match((await c.cmd(`login ${USER} secret`, 'k1')).status, /^k1 OK /);
    assert.match((await c.cmd('select lower', 'k2')).status, /^k2 NO /);
    assert.match((await c.cmd('sElEcT Lower', 'k3')).status, /^k3 OK \[READ-WRITE\]/);
    const f = await c.cmd('uid fetch 1:* (flags rfc822.size body.peek[header.fields (subject)])', 'k4');
    assert.match(
      f.untagged[0],
      /^\* 1 FETCH \(UID \d+ FLAGS \(\) RFC822\.SIZE 19 BODY\[HEADER\.FIELDS \(subject\)\] \{16\}\r\nSubject: low\r\n\r\n\)$/i,
    );
    assert.deepEqual((await c.cmd('search all undeleted', 'k5')).untagged, ['* SEARCH 1']);
    c.destroy();
  });

  it('a doubled space between arguments, or a trailing space, is BAD (RFC 9051 §9: SP is one space)', {
    todo: 'codec reader ignores extra spaces by design (lib/imap/codec/README.md "Lenient where harmless")',
  }, async () => {
    const c = await greeted();
    assert.match((await c.cmd(`LOGIN  ${USER} secret`, 's1')).status, /^s1 BAD /);
    assert.match((await c.cmd('NOOP ', 's2')).status, /^s2 BAD /);
    c.destroy();
  });

  it('missing or surplus arguments are BAD, the connection stays (RFC 9051 §7.1.3)', async () => {
    await env.mailboxWith('Args', ['Subject: a\r\n\r\na\r\n']);
    const c = await greeted();
    assert.match((await c.cmd(`LOGIN ${USER}`, 'm1')).status, /^m1 BAD /);
    assert.match((await c.cmd('LOGIN', 'm2')).status, /^m2 BAD /);
    assert.match((await c.cmd('NOOP extra', 'm3')).status, /^m3 BAD /);
    assert.match((await c.cmd(`LOGIN ${USER} secret`, 'm4')).status, /^m4 OK /);
    assert.match((await c.cmd('SELECT', 'm5')).status, /^m5 BAD /);
    assert.match((await c.cmd('SELECT Args', 'm6')).status, /^m6 OK /);
    assert.match((await c.cmd('FETCH 1', 'm7')).status, /^m7 BAD /);
    assert.match((await c.cmd('FETCH', 'm8')).status, /^m8 BAD /);
    assert.match((await c.cmd('STORE 1 FLAGS', 'm9')).status, /^m9 BAD /);
    assert.match((await c.cmd('SEARCH', 'm10')).status, /^m10 BAD /);
    assert.match((await c.cmd('COPY 1', 'm11')).status, /^m11 BAD /);
    assert.match((await c.cmd('FETCH 1 (FLAGS', 'm12')).status, /^m12 BAD /);
    assert.match((await c.cmd('FETCH 1 FLAGS)', 'm13')).status, /^m13 BAD /);
    assert.match((await c.cmd('FETCH 0 FLAGS', 'm14')).status, /^m14 BAD /);
    assert.match((await c.cmd('FETCH 1:x FLAGS', 'm15')).status, /^m15 BAD /);
    assert.deepEqual((await c.cmd('FETCH 1 UID', 'm16')).untagged.length, 1);
    c.destroy();
  });

  it('an unknown command is BAD without closing the connection (RFC 9051 §7.1.3)', async () => {
    const c = await greeted();
    assert.match((await c.cmd('XYZZY plugh', 'u1')).status, /^u1 BAD /);
    assert.match((await c.cmd('UID XYZZY 1', 'u2')).status, /^u2 BAD /);
    assert.match((await c.cmd('NOOP', 'u3')).status, /^u3 OK /);
    assert.equal(c.closed, false);
    c.destroy();
  });

  it('a command in the wrong state is BAD (RFC 9051 §3, §6)', async () => {
    const c = await greeted();
    assert.match((await c.cmd('SELECT INBOX', 'w1')).status, /^w1 BAD /);
    assert.match((await c.cmd('FETCH 1 FLAGS', 'w2')).status, /^w2 BAD /);
    assert.match((await c.cmd(`LOGIN ${USER} secret`, 'w3')).status, /^w3 OK /);
    assert.match((await c.cmd(`LOGIN ${USER} secret`, 'w4')).status, /^w4 BAD /);
    assert.match((await c.cmd('AUTHENTICATE PLAIN', 'w5')).status, /^w5 BAD /);
    assert.match((await c.cmd('FETCH 1 FLAGS', 'w6')).status, /^w6 BAD /);
    assert.match((await c.cmd('EXPUNGE', 'w7')).status, /^w7 BAD /);
    assert.match((await c.cmd('CLOSE', 'w8')).status, /^w8 BAD /);
    assert.match((await c.cmd('UID SEARCH ALL', 'w9')).status, /^w9 BAD /);
    assert.match((await c.cmd('NOOP', 'w10')).status, /^w10 OK /);
    c.destroy();
  });

  it('a very long line is BAD [TOOBIG] and the next command is read (RFC 9051 §4, RFC 7889 TOOBIG)', async () => {
    const c = await env.login();
    c.send(`t1 SEARCH SUBJECT ${'x'.repeat(200_000)}\r\nt2 NOOP\r\n`);
    assert.match(await c.line(), /^t1 BAD \[TOOBIG\] /);
    assert.match(await c.line(), /^t2 OK /);
    c.destroy();
  });

  it('a bare LF ends a command as CRLF does (RFC 9051 §2.2 tolerance)', async () => {
    const c = await greeted();
    c.send(crlf('b1 NOOP\n').replace('\r\n', '\n'));
    assert.match(await c.line(), /^b1 OK /);
    c.destroy();
  });

  it('a mailbox name as a literal, and APPEND arguments checked: date-time, flags, a zero-length message', async () => {
    await env.mailboxWith('Lit Box', []);
    const c = await env.login();
    c.send('y1 SELECT {7}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('Lit Box\r\n');
    assert.match((await c.until('y1')).status, /^y1 OK \[READ-WRITE\]/);
    const msg = 'Subject: x\r\n\r\nx\r\n';
    for (const [tag, args] of [
      ['y2', '"Lit Box" "31-Feb-2024 10:00:00 +0000"'],
      ['y3', '"Lit Box" "5-Mar-2024 10:00:00"'],
      ['y4', '"Lit Box" (\\Recent)'],
      ['y5', '"Lit Box" (\\Bogus)'],
    ]) {
      c.send(`${tag} APPEND ${args} {${msg.length}}\r\n`);
      const first = await c.line();
      if (first.startsWith('+')) {
        c.send(`${msg}\r\n`);
        assert.match((await c.until(tag)).status, new RegExp(`^${tag} BAD `), args);
      } else assert.match(first, new RegExp(`^${tag} BAD `), args);
    }
    const ok = await c.cmd('STATUS "Lit Box" (MESSAGES)', 'y6');
    assert.ok(ok.untagged.includes('* STATUS "Lit Box" (MESSAGES 0)'), ok.untagged.join('\n'));
    // An empty message: refused, or stored and then described like any header-only message
    c.send('y7 APPEND "Lit Box" " 5-Mar-2024 10:00:00 +0100" {0}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('\r\n');
    const zero = (await c.until('y7')).status;
    if (/^y7 OK /.test(zero)) {
      const f = await c.cmd('FETCH * (RFC822.SIZE INTERNALDATE BODYSTRUCTURE)', 'y8');
      assert.match(
        f.untagged.at(-1) ?? '',
        /^\* 1 FETCH \(RFC822\.SIZE 0 INTERNALDATE "05-Mar-2024 09:00:00 \+0000" BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 0 0 NIL NIL NIL NIL\)\)$/,
      );
    } else assert.match(zero, /^y7 (NO|BAD) /);
    c.destroy();
  });
});
