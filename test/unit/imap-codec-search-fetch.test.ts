/**
 * SEARCH keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4 and the extensions) and FETCH items (RFC 9051 §6.4.5,
 * RFC 3516, RFC 7162, RFC 8474, RFC 8514), parsed from the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FetchItem, SearchKey } from '../../lib/imap/codec/ast.ts';
import { parseCommand } from '../../lib/imap/codec/parse.ts';
import { parseFetchItem, parseSection } from '../../lib/imap/codec/parseFetch.ts';
import { MAX_SEARCH_DEPTH } from '../../lib/imap/codec/parseSearch.ts';
import { b, parseFailure, parseLine, runRaw } from './imap-codec-helpers.ts';

const set = (...ranges: [number | '*', number | '*'][]) => ({
  kind: 'ranges' as const,
  ranges: ranges.map(([start, end]) => ({ start, end })),
});

function criteria(line: string, utf8 = false): readonly SearchKey[] {
  const cmd = parseLine(line, utf8);
  assert.ok(cmd.type === 'SEARCH');
  return cmd.criteria;
}

const date = (year: number, month: number, day: number) => ({ year, month, day });

const KEYS: [string, SearchKey][] = [
  ['ALL', { type: 'ALL' }],
  ['answered', { type: 'ANSWERED' }],
  ['DELETED', { type: 'DELETED' }],
  ['DRAFT', { type: 'DRAFT' }],
  ['FLAGGED', { type: 'FLAGGED' }],
  ['NEW', { type: 'NEW' }],
  ['OLD', { type: 'OLD' }],
  ['RECENT', { type: 'RECENT' }],
  ['SEEN', { type: 'SEEN' }],
  ['UNANSWERED', { type: 'UNANSWERED' }],
  ['UNDELETED', { type: 'UNDELETED' }],
  ['UNDRAFT', { type: 'UNDRAFT' }],
  ['UNFLAGGED', { type: 'UNFLAGGED' }],
  ['UNSEEN', { type: 'UNSEEN' }],
  ['KEYWORD $Forwarded', { type: 'KEYWORD', flag: '$Forwarded' }],
  ['UNKEYWORD Junk', { type: 'UNKEYWORD', flag: 'Junk' }],
  ['BCC "b@x"', { type: 'BCC', value: 'b@x' }],
  ['BODY hello', { type: 'BODY', value: 'hello' }],
  ['CC c', { type: 'CC', value: 'c' }],
  ['FROM "Smith"', { type: 'FROM', value: 'Smith' }],
  ['SUBJECT {5+}\r\nhi yo', { type: 'SUBJECT', value: 'hi yo' }],
  ['TEXT ""', { type: 'TEXT', value: '' }],
  ['TO t', { type: 'TO', value: 't' }],
  ['HEADER Message-ID "<x@y>"', { type: 'HEADER', field: 'Message-ID', value: '<x@y>' }],
  ['BEFORE 1-Feb-1994', { type: 'BEFORE', date: date(1994, 2, 1) }],
  ['ON "05-jan-2024"', { type: 'ON', date: date(2024, 1, 5) }],
  ['SINCE 29-Feb-2024', { type: 'SINCE', date: date(2024, 2, 29) }],
  ['SENTBEFORE 1-Jan-2000', { type: 'SENTBEFORE', date: date(2000, 1, 1) }],
  ['SENTON 1-Jan-2000', { type: 'SENTON', date: date(2000, 1, 1) }],
  ['SENTSINCE 1-Jan-2000', { type: 'SENTSINCE', date: date(2000, 1, 1) }],
  ['SAVEDBEFORE 1-Jan-2000', { type: 'SAVEDBEFORE', date: date(2000, 1, 1) }],
  ['SAVEDON 1-Jan-2000', { type: 'SAVEDON', date: date(2000, 1, 1) }],
  ['SAVEDSINCE 1-Jan-2000', { type: 'SAVEDSINCE', date: date(2000, 1, 1) }],
  ['SAVEDATESUPPORTED', { type: 'SAVEDATESUPPORTED' }],
  ['LARGER 1024', { type: 'LARGER', size: 1024 }],
  ['SMALLER 10000000000', { type: 'SMALLER', size: 10000000000 }],
  ['OLDER 3600', { type: 'OLDER', seconds: 3600 }],
  ['YOUNGER 60', { type: 'YOUNGER', seconds: 60 }],
  ['UID 1:5,7', { type: 'UID', set: set([1, 5], [7, 7]) }],
  ['UID $', { type: 'UID', set: { kind: 'saved' } }],
  ['2:*', { type: 'SEQUENCE', set: set([2, '*']) }],
  ['$', { type: 'SEQUENCE', set: { kind: 'saved' } }],
  ['NOT SEEN', { type: 'NOT', key: { type: 'SEEN' } }],
  ['OR SEEN FLAGGED', { type: 'OR', left: { type: 'SEEN' }, right: { type: 'FLAGGED' } }],
  [
    '(FROM a TO b)',
    {
      type: 'AND',
      keys: [
        { type: 'FROM', value: 'a' },
        { type: 'TO', value: 'b' },
      ],
    },
  ],
  ['(SEEN)', { type: 'SEEN' }],
  ['MODSEQ 620162338', { type: 'MODSEQ', modSeq: 620162338n }],
  [
    'MODSEQ "/flags/\\\\draft" all 620162338',
    { type: 'MODSEQ', modSeq: 620162338n, entry: { name: '/flags/\\draft', entryType: 'all' } },
  ],
  ['EMAILID M6d99ac3275bb4e', { type: 'EMAILID', id: 'M6d99ac3275bb4e' }],
  ['THREADID T64b478a75b7ea9', { type: 'THREADID', id: 'T64b478a75b7ea9' }],
];

describe('IMAP parser: SEARCH keys', () => {
  for (const [text, key] of KEYS) {
    it(`RFC 9051 §6.4.4 ${text.replace(/\r\n/g, ' ')}`, () => assert.deepEqual(criteria(`a SEARCH ${text}`), [key]));
  }

  it('criteria are a list, nested OR/NOT/parentheses keep their structure', () => {
    assert.deepEqual(criteria('a SEARCH OR (SEEN NOT FROM x) OR 1:3 UID 9 SINCE 1-Jan-2020'), [
      {
        type: 'OR',
        left: {
          type: 'AND',
          keys: [{ type: 'SEEN' }, { type: 'NOT', key: { type: 'FROM', value: 'x' } }],
        },
        right: { type: 'OR', left: { type: 'SEQUENCE', set: set([1, 3]) }, right: { type: 'UID', set: set([9, 9]) } },
      },
      { type: 'SINCE', date: date(2020, 1, 1) },
    ]);
  });

  it('CHARSET ISO-8859-1 decodes a literal as Latin-1 (RFC 9051 §6.4.4)', () => {
    const [e] = runRaw([b('a SEARCH CHARSET ISO-8859-1 SUBJECT {4+}\r\ncaf\xe9\r\n')]);
    assert.ok(e.kind === 'command');
    const r = parseCommand(e);
    assert.ok(r.ok && r.command.type === 'SEARCH');
    assert.equal(r.command.charset, 'ISO-8859-1');
    assert.deepEqual(r.command.criteria, [{ type: 'SUBJECT', value: 'caf\u00e9' }]);
  });

  it('UTF-8 strings are UTF-8 (the default charset)', () => {
    assert.deepEqual(criteria('a SEARCH SUBJECT "café"'), [{ type: 'SUBJECT', value: 'café' }]);
  });

  it('an unknown CHARSET is NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 9051 §6.4.4)', () => {
    const f = parseFailure('a SEARCH CHARSET X-KLINGON FROM x');
    assert.equal(f.status, 'NO');
    assert.deepEqual(f.code, { code: 'BADCHARSET', charsets: ['UTF-8', 'US-ASCII'] });
  });

  it('RFC 4731 RETURN options, and RETURN () as ALL', () => {
    const full = parseLine('a UID SEARCH RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 ALL');
    assert.deepEqual(full, {
      type: 'SEARCH',
      tag: 'a',
      uid: true,
      charset: 'UTF-8',
      returns: { min: true, max: true, all: false, count: true, save: true },
      criteria: [{ type: 'ALL' }],
    });
    const empty = parseLine('a SEARCH RETURN () ALL');
    assert.ok(empty.type === 'SEARCH');
    assert.deepEqual(empty.returns, { min: false, max: false, all: true, count: false, save: false });
  });

  it(`nesting beyond ${MAX_SEARCH_DEPTH} is refused, flat NOT chains too`, () => {
    assert.equal(parseFailure(`a SEARCH ${'NOT '.repeat(MAX_SEARCH_DEPTH + 1)}ALL`).status, 'BAD');
    assert.equal(criteria(`a SEARCH ${'NOT '.repeat(MAX_SEARCH_DEPTH - 1)}ALL`).length, 1);
  });

  const bad: [string, string][] = [
    ['no key', 'a SEARCH'],
    ['unknown key', 'a SEARCH FOO'],
    ['bad date', 'a SEARCH ON 32-Jan-2020'],
    ['bad month', 'a SEARCH ON 1-Foo-2020'],
    ['OR with one operand', 'a SEARCH OR SEEN'],
    ['empty list', 'a SEARCH ()'],
    ['bad sequence set', 'a SEARCH 1:0'],
    ['LARGER without a number', 'a SEARCH LARGER big'],
    ['MODSEQ bad entry type', 'a SEARCH MODSEQ "/flags/x" other 5'],
    ['unknown RETURN option', 'a SEARCH RETURN (PARTIAL) ALL'],
    ['invalid UTF-8 in a UTF-8 search', 'a SEARCH CHARSET UTF-8 TEXT "\xff"'],
  ];
  for (const [name, line] of bad) {
    it(`BAD: ${name}`, () => assert.equal(parseFailure(line).status, 'BAD'));
  }
});

const ITEMS: [string, FetchItem][] = [
  ['UID', { type: 'UID' }],
  ['flags', { type: 'FLAGS' }],
  ['INTERNALDATE', { type: 'INTERNALDATE' }],
  ['RFC822.SIZE', { type: 'RFC822.SIZE' }],
  ['ENVELOPE', { type: 'ENVELOPE' }],
  ['BODYSTRUCTURE', { type: 'BODYSTRUCTURE' }],
  ['BODY', { type: 'BODY' }],
  ['RFC822', { type: 'RFC822' }],
  ['RFC822.HEADER', { type: 'RFC822.HEADER' }],
  ['RFC822.TEXT', { type: 'RFC822.TEXT' }],
  ['MODSEQ', { type: 'MODSEQ' }],
  ['EMAILID', { type: 'EMAILID' }],
  ['THREADID', { type: 'THREADID' }],
  ['SAVEDATE', { type: 'SAVEDATE' }],
  ['BODY[]', { type: 'BODY[]', peek: false, section: { part: [] } }],
  ['body.peek[]<0.2048>', { type: 'BODY[]', peek: true, section: { part: [] }, partial: { offset: 0, length: 2048 } }],
  ['BODY[HEADER]', { type: 'BODY[]', peek: false, section: { part: [], text: 'HEADER' } }],
  ['BODY[text]', { type: 'BODY[]', peek: false, section: { part: [], text: 'TEXT' } }],
  ['BODY[1.2.3]', { type: 'BODY[]', peek: false, section: { part: [1, 2, 3] } }],
  ['BODY[2.MIME]', { type: 'BODY[]', peek: false, section: { part: [2], text: 'MIME' } }],
  ['BODY[3.1.HEADER]', { type: 'BODY[]', peek: false, section: { part: [3, 1], text: 'HEADER' } }],
  [
    'BODY.PEEK[HEADER.FIELDS (From To "Content-Type")]',
    {
      type: 'BODY[]',
      peek: true,
      section: { part: [], text: 'HEADER.FIELDS', fields: ['From', 'To', 'Content-Type'] },
    },
  ],
  [
    'BODY[4.HEADER.FIELDS.NOT (Received)]<10.20>',
    {
      type: 'BODY[]',
      peek: false,
      section: { part: [4], text: 'HEADER.FIELDS.NOT', fields: ['Received'] },
      partial: { offset: 10, length: 20 },
    },
  ],
  ['BINARY[]', { type: 'BINARY', peek: false, part: [] }],
  ['BINARY.PEEK[1.2]<0.100>', { type: 'BINARY', peek: true, part: [1, 2], partial: { offset: 0, length: 100 } }],
  ['BINARY.SIZE[3]', { type: 'BINARY.SIZE', part: [3] }],
];

describe('IMAP parser: FETCH items', () => {
  for (const [text, item] of ITEMS) {
    it(`RFC 9051 §6.4.5 ${text}`, () => assert.deepEqual(parseFetchItem(text), item));
  }

  const invalid = [
    'BODY[MIME]',
    'BODY[0]',
    'BODY[1.0]',
    'BODY[HEADER.FIELDS]',
    'BODY[HEADER.FIELDS ()]',
    'BODY[HEADER.FIELDS (a:b)]',
    'BODY[TEXT (x)]',
    'BODY[FOO]',
    'BODY[]<0.0>',
    'BODY<0.5>',
    'FLAGS[]',
    'BINARY[TEXT]',
    'BINARY.SIZE[1]<0.1>',
    'RFC822.FOO',
    'BODY[HEADER.FIELDS (a "b)]',
  ];
  for (const text of invalid) {
    it(`BAD: ${text}`, () => assert.equal(parseFailure(`a FETCH 1 ${text}`).status, 'BAD'));
  }

  it('section HEADER.FIELDS names may be quoted with escapes', () => {
    assert.deepEqual(parseSection('HEADER.FIELDS ("X-A" X-B)'), {
      part: [],
      text: 'HEADER.FIELDS',
      fields: ['X-A', 'X-B'],
    });
  });

  it('macros ALL, FAST, FULL expand as RFC 9051 §6.4.5 says', () => {
    const types = (macro: string) => {
      const cmd = parseLine(`a FETCH 1 ${macro}`);
      assert.ok(cmd.type === 'FETCH');
      return [cmd.macro, cmd.items.map((i) => i.type)];
    };
    assert.deepEqual(types('fast'), ['FAST', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']]);
    assert.deepEqual(types('ALL'), ['ALL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']]);
    assert.deepEqual(types('FULL'), ['FULL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']]);
  });

  it('a whole FETCH command with CHANGEDSINCE and VANISHED (RFC 7162 §3.2.6)', () => {
    assert.deepEqual(parseLine('a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)'), {
      type: 'FETCH',
      tag: 'a',
      uid: true,
      set: set([300, 500]),
      items: [{ type: 'FLAGS' }],
      changedSince: 12345n,
      vanished: true,
    });
  });

  it('a single item without parentheses, and $ as the set (RFC 5182)', () => {
    assert.deepEqual(parseLine('a FETCH $ BODY.PEEK[1]'), {
      type: 'FETCH',
      tag: 'a',
      uid: false,
      set: { kind: 'saved' },
      items: [{ type: 'BODY[]', peek: true, section: { part: [1] } }],
      vanished: false,
    });
  });

  const bad: [string, string][] = [
    ['VANISHED without UID (RFC 7162 §3.2.6)', 'a FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)'],
    ['VANISHED without CHANGEDSINCE', 'a UID FETCH 1:* (FLAGS) (VANISHED)'],
    ['unknown modifier', 'a FETCH 1 FLAGS (FOO)'],
    ['empty item list', 'a FETCH 1 ()'],
    ['no items', 'a FETCH 1'],
    ['bad set', 'a FETCH 1:x FLAGS'],
    ['mod-sequence above 2^63-1', 'a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)'],
  ];
  for (const [name, line] of bad) {
    it(`BAD: ${name}`, () => assert.equal(parseFailure(line).status, 'BAD'));
  }
});
