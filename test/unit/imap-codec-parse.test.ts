/**
 * IMAP command parser: every command of RFC 9051 §6 / RFC 3501 §6 and the extensions, from wire text to
 * the typed command, and the errors (BAD, or NO with a response code) for malformed arguments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../../lib/imap/codec/ast.ts';
import { parseDateTime } from '../../lib/imap/codec/dates.ts';
import { parseAppendHead } from '../../lib/imap/codec/parseAppend.ts';
import { b, parseFailure, parseLine, runRaw } from './imap-codec-helpers.ts';

const set = (...ranges: [number | '*', number | '*'][]) => ({
  kind: 'ranges' as const,
  ranges: ranges.map(([start, end]) => ({ start, end })),
});

const NO_SELECTION = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
const NO_RETURNS = { subscribed: false, children: false, specialUse: false };

const CASES: [string, string, Command][] = [
  ['RFC 9051 §6.1.1 CAPABILITY', 'a CAPABILITY', { type: 'CAPABILITY', tag: 'a' }],
  ['RFC 9051 §6.1.2 NOOP, name case-insensitive', 'a noop', { type: 'NOOP', tag: 'a' }],
  ['RFC 9051 §6.1.3 LOGOUT', 'a LOGOUT', { type: 'LOGOUT', tag: 'a' }],
  ['RFC 9051 §6.2.1 STARTTLS', 'a STARTTLS', { type: 'STARTTLS', tag: 'a' }],
  ['RFC 2177 IDLE', 'a IDLE', { type: 'IDLE', tag: 'a' }],
  ['RFC 3501 §6.4.1 CHECK', 'a CHECK', { type: 'CHECK', tag: 'a' }],
  ['RFC 9051 §6.4.1 CLOSE', 'a CLOSE', { type: 'CLOSE', tag: 'a' }],
  ['RFC 3691 UNSELECT', 'a UNSELECT', { type: 'UNSELECT', tag: 'a' }],
  ['RFC 2342 NAMESPACE', 'a NAMESPACE', { type: 'NAMESPACE', tag: 'a' }],
  [
    'RFC 9051 §6.2.2 AUTHENTICATE without initial response',
    'a authenticate plain',
    { type: 'AUTHENTICATE', tag: 'a', mechanism: 'PLAIN', initialResponse: null },
  ],
  [
    'RFC 4959 SASL-IR initial response',
    'a AUTHENTICATE PLAIN AGJvYgBwdw==',
    { type: 'AUTHENTICATE', tag: 'a', mechanism: 'PLAIN', initialResponse: Buffer.from('\0bob\0pw') },
  ],
  [
    'RFC 4959 §3 "=" is an empty initial response',
    'a AUTHENTICATE EXTERNAL =',
    { type: 'AUTHENTICATE', tag: 'a', mechanism: 'EXTERNAL', initialResponse: Buffer.alloc(0) },
  ],
  [
    'RFC 9051 §6.2.3 LOGIN with atoms',
    'a LOGIN bob secret',
    { type: 'LOGIN', tag: 'a', username: 'bob', password: 'secret' },
  ],
  [
    'RFC 9051 §6.2.3 LOGIN with quoted and literal',
    'a LOGIN "bob@example.com" {6+}\r\np@ss w',
    { type: 'LOGIN', tag: 'a', username: 'bob@example.com', password: 'p@ss w' },
  ],
  [
    'RFC 5161 ENABLE',
    'a ENABLE condstore QRESYNC utf8=accept',
    { type: 'ENABLE', tag: 'a', capabilities: ['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT'] },
  ],
  [
    'RFC 9051 §6.3.2 SELECT, INBOX case-insensitive',
    'a SELECT inbox',
    { type: 'SELECT', tag: 'a', mailbox: 'INBOX', condstore: false },
  ],
  ['RFC 9051 §6.3.3 EXAMINE', 'a EXAMINE "Sent"', { type: 'EXAMINE', tag: 'a', mailbox: 'Sent', condstore: false }],
  [
    'RFC 7162 §3.1.8 SELECT (CONDSTORE)',
    'a SELECT INBOX (CONDSTORE)',
    { type: 'SELECT', tag: 'a', mailbox: 'INBOX', condstore: true },
  ],
  [
    'RFC 7162 §3.2.5 SELECT QRESYNC with known UIDs and sequence match data',
    'a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:10 100:109)))',
    {
      type: 'SELECT',
      tag: 'a',
      mailbox: 'INBOX',
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modSeq: 20050715194045000n,
        knownUids: set([41, 41], [43, 211], [214, 541]),
        seqMatch: { sequences: set([1, 10]), uids: set([100, 109]) },
      },
    },
  ],
  [
    'RFC 7162 §3.2.5 QRESYNC with only UIDVALIDITY and MODSEQ',
    'a EXAMINE INBOX (QRESYNC (1 2))',
    { type: 'EXAMINE', tag: 'a', mailbox: 'INBOX', condstore: false, qresync: { uidValidity: 1, modSeq: 2n } },
  ],
  [
    'RFC 9051 §6.3.4 CREATE',
    'a CREATE Work/Projects',
    { type: 'CREATE', tag: 'a', mailbox: 'Work/Projects', specialUse: [] },
  ],
  [
    'RFC 6154 §3 CREATE with USE',
    'a CREATE MySpecial (USE (\\drafts \\Sent))',
    { type: 'CREATE', tag: 'a', mailbox: 'MySpecial', specialUse: ['\\Drafts', '\\Sent'] },
  ],
  ['RFC 9051 §6.3.5 DELETE', 'a DELETE foo', { type: 'DELETE', tag: 'a', mailbox: 'foo' }],
  ['RFC 9051 §6.3.6 RENAME', 'a RENAME old "new name"', { type: 'RENAME', tag: 'a', from: 'old', to: 'new name' }],
  ['RFC 9051 §6.3.7 SUBSCRIBE', 'a SUBSCRIBE Inbox/Sub', { type: 'SUBSCRIBE', tag: 'a', mailbox: 'INBOX/Sub' }],
  ['RFC 9051 §6.3.8 UNSUBSCRIBE', 'a UNSUBSCRIBE x', { type: 'UNSUBSCRIBE', tag: 'a', mailbox: 'x' }],
  [
    'RFC 9051 §6.3.9 LIST basic',
    'a LIST "" *',
    {
      type: 'LIST',
      tag: 'a',
      reference: '',
      patterns: ['*'],
      selection: NO_SELECTION,
      returns: NO_RETURNS,
      extended: false,
    },
  ],
  [
    'RFC 9051 §6.3.9 LIST "" "" asks for the delimiter',
    'a LIST "" ""',
    {
      type: 'LIST',
      tag: 'a',
      reference: '',
      patterns: [''],
      selection: NO_SELECTION,
      returns: NO_RETURNS,
      extended: false,
    },
  ],
  [
    'RFC 3501 LIST pattern atom with % and ]',
    'a LIST ~smith/Mail/ [Gmail]/%',
    {
      type: 'LIST',
      tag: 'a',
      reference: '~smith/Mail/',
      patterns: ['[Gmail]/%'],
      selection: NO_SELECTION,
      returns: NO_RETURNS,
      extended: false,
    },
  ],
  [
    'RFC 5258 §3 LIST-EXTENDED selection, patterns, RETURN; RFC 5819 STATUS; RFC 6154',
    'a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Lists/%") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))',
    {
      type: 'LIST',
      tag: 'a',
      reference: '',
      patterns: ['INBOX', 'Lists/%'],
      selection: { subscribed: true, remote: false, recursiveMatch: true, specialUse: false },
      returns: { subscribed: false, children: true, specialUse: true, status: ['MESSAGES', 'UNSEEN'] },
      extended: true,
    },
  ],
  [
    'RFC 6154 §2 LIST (SPECIAL-USE)',
    'a LIST (SPECIAL-USE) "" *',
    {
      type: 'LIST',
      tag: 'a',
      reference: '',
      patterns: ['*'],
      selection: { ...NO_SELECTION, specialUse: true },
      returns: NO_RETURNS,
      extended: true,
    },
  ],
  ['RFC 3501 §6.3.9 LSUB', 'a LSUB "" %', { type: 'LSUB', tag: 'a', reference: '', pattern: '%' }],
  [
    'RFC 9051 §6.3.11 STATUS with every item',
    'a STATUS blurdybloop (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT MAILBOXID)',
    {
      type: 'STATUS',
      tag: 'a',
      mailbox: 'blurdybloop',
      items: [
        'MESSAGES',
        'UIDNEXT',
        'UIDVALIDITY',
        'UNSEEN',
        'DELETED',
        'SIZE',
        'RECENT',
        'HIGHESTMODSEQ',
        'APPENDLIMIT',
        'MAILBOXID',
      ],
    },
  ],
  ['RFC 9051 §6.4.3 EXPUNGE', 'a EXPUNGE', { type: 'EXPUNGE', tag: 'a' }],
  ['RFC 4315 §2.1 UID EXPUNGE', 'a UID EXPUNGE 3000:3002', { type: 'EXPUNGE', tag: 'a', uids: set([3000, 3002]) }],
  [
    'RFC 9051 §6.4.6 STORE +FLAGS',
    'a STORE 2:4 +FLAGS (\\deleted $Label1)',
    {
      type: 'STORE',
      tag: 'a',
      uid: false,
      set: set([2, 4]),
      action: 'add',
      silent: false,
      flags: ['\\Deleted', '$Label1'],
    },
  ],
  [
    'RFC 9051 §6.4.6 STORE -FLAGS.SILENT without parentheses',
    'a STORE 1 -FLAGS.SILENT \\Seen \\Flagged',
    {
      type: 'STORE',
      tag: 'a',
      uid: false,
      set: set([1, 1]),
      action: 'remove',
      silent: true,
      flags: ['\\Seen', '\\Flagged'],
    },
  ],
  [
    'RFC 7162 §3.1.3 UID STORE with UNCHANGEDSINCE',
    'a UID STORE 1:* (UNCHANGEDSINCE 320162338) FLAGS ()',
    {
      type: 'STORE',
      tag: 'a',
      uid: true,
      set: set([1, '*']),
      action: 'set',
      silent: false,
      flags: [],
      unchangedSince: 320162338n,
    },
  ],
  [
    'RFC 9051 §6.4.7 COPY',
    'a COPY 2:4 MEETING',
    { type: 'COPY', tag: 'a', uid: false, set: set([2, 4]), mailbox: 'MEETING' },
  ],
  ['RFC 6851 MOVE', 'a MOVE $ Trash', { type: 'MOVE', tag: 'a', uid: false, set: { kind: 'saved' }, mailbox: 'Trash' }],
  [
    'RFC 6851 UID MOVE',
    'a uid move 42 "Archive"',
    { type: 'MOVE', tag: 'a', uid: true, set: set([42, 42]), mailbox: 'Archive' },
  ],
  [
    'RFC 2971 ID',
    'a ID ("name" "sodr" "version" NIL)',
    {
      type: 'ID',
      tag: 'a',
      params: [
        ['name', 'sodr'],
        ['version', null],
      ],
    },
  ],
  ['RFC 2971 ID NIL', 'a ID NIL', { type: 'ID', tag: 'a', params: null }],
  ['RFC 9208 §4.2 GETQUOTA', 'a GETQUOTA ""', { type: 'GETQUOTA', tag: 'a', root: '' }],
  ['RFC 9208 §4.3 GETQUOTAROOT', 'a GETQUOTAROOT INBOX', { type: 'GETQUOTAROOT', tag: 'a', mailbox: 'INBOX' }],
  [
    'RFC 9208 §4.1 SETQUOTA',
    'a SETQUOTA "" (storage 512 MESSAGE 1000)',
    {
      type: 'SETQUOTA',
      tag: 'a',
      root: '',
      limits: [
        { resource: 'STORAGE', limit: 512n },
        { resource: 'MESSAGE', limit: 1000n },
      ],
    },
  ],
];

describe('IMAP parser: commands', () => {
  for (const [name, line, expected] of CASES) {
    it(name, () => assert.deepEqual(parseLine(line), expected));
  }
});

describe('IMAP parser: APPEND', () => {
  it('RFC 9051 §6.3.12 flags, date-time and a literal (streamed)', () => {
    assert.deepEqual(parseLine('a APPEND saved-messages (\\Seen) "05-Jan-2024 10:11:12 +0100" {3+}\r\nabc'), {
      type: 'APPEND',
      tag: 'a',
      mailbox: 'saved-messages',
      messages: [
        {
          flags: ['\\Seen'],
          internalDate: parseDateTime('05-Jan-2024 10:11:12 +0100'),
          binary: false,
          utf8: false,
          data: { kind: 'streamed', seq: 0, size: 3 },
        },
      ],
    });
  });

  it('RFC 3502 MULTIAPPEND, RFC 3516 literal8 and RFC 6855 UTF8 (~{n})', () => {
    const cmd = parseLine('a APPEND INBOX {1+}\r\nA ~{1+}\r\nB () UTF8 (~{1+}\r\nC)');
    assert.ok(cmd.type === 'APPEND');
    assert.deepEqual(
      cmd.messages.map((m) => [m.flags, m.binary, m.utf8, m.data]),
      [
        [[], false, false, { kind: 'streamed', seq: 0, size: 1 }],
        [[], true, false, { kind: 'streamed', seq: 1, size: 1 }],
        [[], true, true, { kind: 'streamed', seq: 2, size: 1 }],
      ],
    );
  });

  it('parseAppendHead tells the session the mailbox and options before the message octets', () => {
    const literals = runRaw([
      b('a APPEND "Drafts" (\\Draft) {3+}\r\nabc "01-Feb-2024 00:00:00 +0000" UTF8 (~{1+}\r\nx)\r\n'),
    ]).filter((e) => e.kind === 'literal');
    assert.equal(literals.length, 2);
    const heads = literals.map((e) =>
      e.kind === 'literal' ? parseAppendHead(e.args, e.depth, { utf8: false }) : null,
    );
    assert.deepEqual(heads[0], { mailbox: 'Drafts', index: 0, flags: ['\\Draft'], utf8: false });
    assert.deepEqual(heads[1], {
      mailbox: 'Drafts',
      index: 1,
      flags: [],
      internalDate: parseDateTime('01-Feb-2024 00:00:00 +0000'),
      utf8: true,
    });
  });

  const bad: [string, string][] = [
    ['no message', 'a APPEND INBOX'],
    ['flags after the date', 'a APPEND INBOX "01-Feb-2024 00:00:00 +0000" () {1+}\r\nx'],
    ['\\Recent cannot be set (RFC 9051 §2.3.2)', 'a APPEND INBOX (\\Recent) {1+}\r\nx'],
    ['invalid date-time', 'a APPEND INBOX "31-Feb-2024 00:00:00 +0000" {1+}\r\nx'],
    ['UTF8 with a plain literal (RFC 6855 §4)', 'a APPEND INBOX UTF8 ({1+}\r\nx)'],
  ];
  for (const [name, line] of bad) {
    it(`BAD: ${name}`, () => assert.equal(parseFailure(line).status, 'BAD'));
  }
});

describe('IMAP parser: mailbox names', () => {
  it('RFC 3501 §5.1.3 modified UTF-7 is decoded', () => {
    assert.deepEqual(parseLine('a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-'), {
      type: 'SELECT',
      tag: 'a',
      mailbox: '~peter/mail/台北/日本語',
      condstore: false,
    });
  });

  it('RFC 3501 §5.1.3 "&-" is "&"', () => {
    assert.deepEqual(parseLine('a DELETE "Tom &- Jerry"'), { type: 'DELETE', tag: 'a', mailbox: 'Tom & Jerry' });
  });

  it('RFC 6855 §3: in UTF-8 mode names are UTF-8 and "&" is literal', () => {
    assert.deepEqual(parseLine('a DELETE "Tom &- Jerry"', true), { type: 'DELETE', tag: 'a', mailbox: 'Tom &- Jerry' });
    assert.deepEqual(parseLine('a DELETE "Entwürfe"', true), { type: 'DELETE', tag: 'a', mailbox: 'Entwürfe' });
  });

  it('INBOX at the top of a hierarchy is normalised, elsewhere kept (RFC 9051 §5.1)', () => {
    assert.deepEqual(parseLine('a CREATE inBox/Sub'), {
      type: 'CREATE',
      tag: 'a',
      mailbox: 'INBOX/Sub',
      specialUse: [],
    });
    assert.deepEqual(parseLine('a CREATE Foo/inbox'), {
      type: 'CREATE',
      tag: 'a',
      mailbox: 'Foo/inbox',
      specialUse: [],
    });
    assert.deepEqual(parseLine('a CREATE INBOXES'), { type: 'CREATE', tag: 'a', mailbox: 'INBOXES', specialUse: [] });
  });

  for (const name of ['&Jjo', '&U,BTFw', '&AGE-', '&2D3-', '&U,BTF-']) {
    it(`BAD: invalid modified UTF-7 ${name}`, () => assert.equal(parseFailure(`a SELECT "${name}"`).status, 'BAD'));
  }
});

describe('IMAP parser: errors', () => {
  const bad: [string, string][] = [
    ['unknown command', 'a FROBNICATE'],
    ['UID with a non-UID command', 'a UID SELECT INBOX'],
    ['extra argument', 'a NOOP now'],
    ['LOGIN missing the password', 'a LOGIN bob'],
    ['AUTHENTICATE with bad base64', 'a AUTHENTICATE PLAIN abc'],
    ['ENABLE without capabilities', 'a ENABLE'],
    ['SELECT unknown parameter (RFC 4466 §2.1)', 'a SELECT INBOX (FOO)'],
    ['QRESYNC known UIDs with * (RFC 7162 §3.2.5)', 'a SELECT INBOX (QRESYNC (1 2 1:*))'],
    ['CREATE unknown parameter', 'a CREATE x (FOO (1))'],
    ['LIST RECURSIVEMATCH alone (RFC 5258 §3)', 'a LIST (RECURSIVEMATCH) "" *'],
    ['LIST unknown return option', 'a LIST "" * RETURN (FOO)'],
    ['STATUS empty item list', 'a STATUS INBOX ()'],
    ['STATUS unknown item', 'a STATUS INBOX (FOO)'],
    ['STORE unknown item', 'a STORE 1 LABELS (x)'],
    ['STORE \\Recent', 'a STORE 1 +FLAGS (\\Recent)'],
    ['COPY sequence 0', 'a COPY 0 x'],
    ['COPY garbage set', 'a COPY 1,,2 x'],
    ['COPY set with a negative number', 'a COPY -1 x'],
    ['COPY number above 2^32-1', 'a COPY 4294967296 x'],
    ['UID EXPUNGE without a set', 'a UID EXPUNGE'],
    ['ID with more than 30 pairs (RFC 2971 §3.3)', `a ID (${'"k" "v" '.repeat(31)})`],
    ['GETQUOTAROOT missing the mailbox', 'a GETQUOTAROOT'],
    ['invalid UTF-8 in a name', 'a SELECT "\xff"'],
  ];
  for (const [name, line] of bad) {
    it(`BAD: ${name}`, () => {
      const f = parseFailure(line);
      assert.equal(f.status, 'BAD');
      assert.ok(f.message.length > 0);
    });
  }

  it('CREATE with an unknown USE attribute is NO [USEATTR] (RFC 6154 §3)', () => {
    assert.deepEqual(parseFailure('a CREATE x (USE (\\Important))').code, { code: 'USEATTR' });
  });
});
