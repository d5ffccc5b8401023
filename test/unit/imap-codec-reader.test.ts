/**
 * IMAP command reader: commands and literals from a byte stream in any chunking, limits with the tag in the
 * error and resynchronisation at the next command, streamed APPEND data, raw line mode.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type ReaderEvent } from '../../lib/imap/codec/reader.ts';
import { b, chunk, prng, run, runRaw } from './imap-codec-helpers.ts';

const atom = (value: string) => ({ type: 'atom', value });
const quoted = (s: string) => ({ type: 'string', value: `<${s}>`, form: 'quoted' });
const lit = (s: string, form = 'literal') => ({ type: 'string', value: `<${s}>`, form });
const command = (tag: string, name: string, args: unknown[]) => ({ kind: 'command', tag, name, args });

/** A session's worth of input covering every reader path, errors included. */
const SESSION = b(
  [
    'a1 CAPABILITY\r\n',
    'a2 LOGIN {5}\r\nalice "p\\"w\\\\d"\r\n',
    'a3 SELECT ~peter/mail/&U,BTFw-\r\n',
    'a4 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>)\r\n',
    'a5 APPEND INBOX (\\Seen) {12+}\r\nhello\r\nworld UTF8 (~{3}\r\na\x00b)\r\n',
    'a6 SEARCH CHARSET UTF-8 SUBJECT {0+}\r\n\r\n',
    'a7 NOOP (((\r\n',
    '+bad NOOP\r\n',
    'a8 X ) trailing {4+}\r\nx\r\ny more\r\n',
    'a9 NOOP\n',
    '\r\n',
    'b1 LOGOUT\r\n',
  ].join(''),
);

const EXPECTED = [
  command('a1', 'CAPABILITY', []),
  {
    kind: 'literal',
    tag: 'a2',
    name: 'LOGIN',
    args: [],
    depth: 0,
    size: 5,
    binary: false,
    synchronizing: true,
    streamed: false,
    seq: -1,
  },
  command('a2', 'LOGIN', [lit('alice'), quoted('p"w\\d')]),
  command('a3', 'SELECT', [atom('~peter/mail/&U,BTFw-')]),
  command('a4', 'FETCH', [
    atom('1:*'),
    { type: 'list', items: [atom('FLAGS'), atom('BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>')] },
  ]),
  {
    kind: 'literal',
    tag: 'a5',
    name: 'APPEND',
    args: [atom('INBOX'), { type: 'list', items: [atom('\\Seen')] }],
    depth: 0,
    size: 12,
    binary: false,
    synchronizing: false,
    streamed: true,
    seq: 0,
  },
  { kind: 'literal-data', seq: 0, data: '<hello\r\nworld>' },
  { kind: 'literal-end', seq: 0 },
  {
    kind: 'literal',
    tag: 'a5',
    name: 'APPEND',
    args: [
      atom('INBOX'),
      { type: 'list', items: [atom('\\Seen')] },
      { type: 'streamed', seq: 0, size: 12, binary: false },
      atom('UTF8'),
    ],
    depth: 1,
    size: 3,
    binary: true,
    synchronizing: true,
    streamed: true,
    seq: 1,
  },
  { kind: 'literal-data', seq: 1, data: '<a\x00b>' },
  { kind: 'literal-end', seq: 1 },
  command('a5', 'APPEND', [
    atom('INBOX'),
    { type: 'list', items: [atom('\\Seen')] },
    { type: 'streamed', seq: 0, size: 12, binary: false },
    atom('UTF8'),
    { type: 'list', items: [{ type: 'streamed', seq: 1, size: 3, binary: true }] },
  ]),
  command('a6', 'SEARCH', [atom('CHARSET'), atom('UTF-8'), atom('SUBJECT'), lit('')]),
  { kind: 'error', code: 'syntax', message: 'unclosed "("', tag: 'a7', name: 'NOOP', fatal: false },
  { kind: 'error', code: 'bad-tag', message: 'missing or invalid tag', fatal: false },
  { kind: 'error', code: 'syntax', message: 'unexpected ")"', tag: 'a8', name: 'X', fatal: false },
  command('a9', 'NOOP', []),
  command('b1', 'LOGOUT', []),
];

describe('IMAP command reader: chunk boundaries', () => {
  it('reads a session fed whole (RFC 9051 §4.3 literals, §2.2.1 one command per line)', () => {
    assert.deepEqual(run([SESSION]), EXPECTED);
  });

  it('gives the same events fed byte by byte', () => {
    assert.deepEqual(run(chunk(SESSION, () => 1)), EXPECTED);
  });

  it('gives the same events for 200 random chunkings', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const chunks = chunk(SESSION, () => 1 + Math.floor(random() * 24));
      assert.deepEqual(run(chunks), EXPECTED, `seed ${seed}`);
    }
  });

  it('splits a single CRLF across chunks', () => {
    assert.deepEqual(run([b('a1 NOOP\r'), b('\na2 NOOP\r\n')]), [command('a1', 'NOOP', []), command('a2', 'NOOP', [])]);
  });
});

describe('IMAP command reader: literals', () => {
  it('zero-length synchronising literal still asks for the continuation (RFC 9051 §4.3)', () => {
    const events = run([b('a1 LOGIN {0}\r\n {0}\r\n\r\n')]);
    assert.equal(events.filter((e) => e.kind === 'literal').length, 2);
    assert.deepEqual(events.at(-1), command('a1', 'LOGIN', [lit(''), lit('')]));
  });

  it('CRLF inside a literal is data, not the end of the command', () => {
    assert.deepEqual(run([b('a1 LOGIN {4+}\r\na\r\nb x\r\n')]), [command('a1', 'LOGIN', [lit('a\r\nb'), atom('x')])]);
  });

  it('a non-synchronising literal is read without a continuation request (RFC 7888 §3)', () => {
    const events = run([b('a1 LOGIN {3+}\r\nbob {2+}\r\npw\r\n')]);
    assert.deepEqual(events, [command('a1', 'LOGIN', [lit('bob'), lit('pw')])]);
  });

  it('literal8 keeps NUL octets (RFC 3516 §4.1)', () => {
    assert.deepEqual(run([b('a1 X ~{3+}\r\n\x00\x01\x02\r\n')]), [
      command('a1', 'X', [lit('\x00\x01\x02', 'literal8')]),
    ]);
  });

  it('waits for accept() before reading a synchronising literal', () => {
    const reader = new CommandReader();
    reader.push(b('a1 LOGIN {3}\r\nbob x\r\n'));
    const first = reader.next();
    assert.equal(first?.kind, 'literal');
    assert.equal(reader.awaitingLiteral, true);
    assert.equal(reader.next(), null, 'nothing more until the session decides');
    reader.accept();
    const done = reader.next();
    assert.deepEqual(done?.kind === 'command' && done.args.length, 2);
  });

  it('after refuse() the client sends no literal, and the next line is a new command (RFC 9051 §7.5)', () => {
    const events = run([b('a1 APPEND Nope {5}\r\na2 NOOP\r\n')], { decide: () => false });
    assert.deepEqual(events.slice(1), [command('a2', 'NOOP', [])]);
  });

  it('an oversized synchronising literal is refused with its tag before any data', () => {
    const events = run([b('a1 LOGIN {100}\r\na2 NOOP\r\n')], { limits: { maxInlineLiteral: 10 } });
    assert.deepEqual(events, [
      {
        kind: 'error',
        code: 'literal-too-large',
        message: 'literal larger than 10 octets',
        tag: 'a1',
        name: 'LOGIN',
        size: 100,
        limit: 10,
        fatal: false,
      },
      command('a2', 'NOOP', []),
    ]);
  });

  it('an APPEND larger than APPENDLIMIT is refused with its tag and size (RFC 7889)', () => {
    const [e] = runRaw([b('a1 APPEND INBOX {2000}\r\n')], { limits: { maxAppendLiteral: 1000 } });
    assert.ok(e.kind === 'error');
    assert.deepEqual([e.code, e.tag, e.size, e.limit], ['literal-too-large', 'a1', 2000, 1000]);
  });

  it('a non-synchronising literal over the LITERAL- limit is refused and its octets are skipped, not obeyed (RFC 7888 §4)', () => {
    const injected = 'a9 DELETE INBOX\r\n'.repeat(300); // 5100 octets that look like commands
    const events = run([b(`a1 LOGIN {${injected.length}+}\r\n${injected} x\r\na2 NOOP\r\n`)]);
    assert.equal(events.length, 2);
    assert.deepEqual([events[0].kind, events[0].code, events[0].tag], ['error', 'literal-too-large', 'a1']);
    assert.deepEqual(events[1], command('a2', 'NOOP', []));
  });

  it('a non-synchronising literal too large even to skip is fatal', () => {
    const events = run([b('a1 APPEND INBOX {999999999999+}\r\nxx')], {
      limits: { maxAppendLiteral: 1000, maxDiscard: 1000 },
    });
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].code, events[0].tag, events[0].fatal], ['literal-too-large', 'a1', true]);
  });

  it('the octets of a literal announced in a skipped line are skipped too', () => {
    const events = run([b('a1 X ((((((((((((((((((x {17+}\r\na9 DELETE INBOX\r\n\r\na2 NOOP\r\n')], {
      limits: { maxDepth: 4 },
    });
    assert.deepEqual(
      events.map((e) => [e.kind, e.code ?? e.name, e.tag]),
      [
        ['error', 'too-deep', 'a1'],
        ['command', 'NOOP', 'a2'],
      ],
    );
  });

  it('streams an APPEND message as views of the received chunks, never buffering it', () => {
    const body = Buffer.alloc(1024 * 1024, 0x61);
    const reader = new CommandReader({ limits: { maxNonSyncLiteral: Number.POSITIVE_INFINITY } }); // LITERAL+
    const chunks = chunk(Buffer.concat([b(`a1 APPEND INBOX {${body.length}+}\r\n`), body, b('\r\n')]), () => 65536);
    let received = 0;
    let largest = 0;
    const kinds: string[] = [];
    for (const c of chunks) {
      reader.push(c);
      for (let e = reader.next(); e !== null; e = reader.next()) {
        if (e.kind === 'literal-data') {
          assert.equal(e.data.buffer, c.buffer, 'a view of the chunk just pushed');
          received += e.data.length;
          largest = Math.max(largest, e.data.length);
        }
        if (kinds.at(-1) !== e.kind) kinds.push(e.kind);
      }
      assert.ok(reader.buffered === 0, 'nothing left behind in the reader');
    }
    assert.equal(received, body.length);
    assert.ok(largest <= 65536);
    assert.deepEqual(kinds, ['literal', 'literal-data', 'literal-end', 'command']);
  });

  it('a zero-length streamed literal is announced and ended with no data', () => {
    assert.deepEqual(
      run([b('a1 APPEND INBOX {0+}\r\n\r\n')]).map((e) => e.kind),
      ['literal', 'literal-end', 'command'],
    );
  });

  it('streams a MULTIAPPEND, one literal per message (RFC 3502)', () => {
    const events = run([b('a1 APPEND Sent {1+}\r\nA (\\Seen) {2+}\r\nBC\r\n')]);
    assert.deepEqual(
      events.filter((e) => e.kind === 'literal-data').map((e) => [e.seq, e.data]),
      [
        [0, '<A>'],
        [1, '<BC>'],
      ],
    );
  });

  it('an APPEND mailbox given as a literal is collected, not streamed', () => {
    const events = runRaw([b('a1 APPEND {5+}\r\nINBOX {1+}\r\nx\r\n')]);
    const done = events.at(-1);
    assert.ok(done?.kind === 'command');
    assert.deepEqual(
      done.args.map((t) => t.type),
      ['string', 'streamed'],
    );
  });
});

describe('IMAP command reader: limits and errors carry the tag and resynchronise', () => {
  const errorsThenNoop = (input: string, limits = {}) =>
    run([b(`${input}\r\nz1 NOOP\r\n`)], { limits }).map((e) => [e.kind, e.code ?? e.name, e.tag]);

  it('lists nested deeper than the limit', () => {
    assert.deepEqual(errorsThenNoop('a1 SEARCH ((((ALL))))', { maxDepth: 3 }), [
      ['error', 'too-deep', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
    assert.deepEqual(errorsThenNoop('a1 SEARCH (((ALL)))', { maxDepth: 3 })[0], ['command', 'SEARCH', 'a1']);
  });

  it('a line longer than the limit', () => {
    assert.deepEqual(errorsThenNoop(`a1 NOOP ${'x'.repeat(200)}`, { maxLineLength: 100 }), [
      ['error', 'line-too-long', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
  });

  it('a line of exactly the limit is accepted, CRLF not counted', () => {
    const line = `a1 NOOP ${'x'.repeat(92)}`; // 100 octets
    assert.deepEqual(errorsThenNoop(line, { maxLineLength: 100 })[0], ['command', 'NOOP', 'a1']);
    assert.deepEqual(errorsThenNoop(`${line}x`, { maxLineLength: 100 })[0], ['error', 'line-too-long', 'a1']);
  });

  it('an atom whose 8-bit octets are not UTF-8 is refused, not turned into U+FFFD', () => {
    assert.deepEqual(errorsThenNoop('a1 SELECT caf\xe9'), [
      ['error', 'syntax', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
    assert.deepEqual(run([b('a1 SELECT caf\xc3\xa9\r\n')]), [command('a1', 'SELECT', [atom('caf\u00e9')])]);
  });

  it('each line after a literal has its own length budget', () => {
    const line = `a1 LOGIN {3+}\r\nabc ${'x'.repeat(60)}`;
    assert.deepEqual(errorsThenNoop(line, { maxLineLength: 64 })[0], ['command', 'LOGIN', 'a1']);
  });

  it('too many arguments', () => {
    assert.deepEqual(errorsThenNoop(`a1 X ${'a '.repeat(50)}`, { maxTokens: 20 }), [
      ['error', 'too-many-args', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
  });

  it('all collected literals of one command together', () => {
    const line = 'a1 X {6+}\r\n123456 {6+}\r\n123456';
    assert.deepEqual(errorsThenNoop(line, { maxInlineTotal: 10 }), [
      ['error', 'literal-too-large', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
  });

  it('an invalid tag is reported untagged', () => {
    for (const bad of ['a+b NOOP', '* NOOP', '"a" NOOP', '(a) NOOP', '{1+}\r\na NOOP']) {
      assert.deepEqual(
        errorsThenNoop(bad),
        [
          ['error', 'bad-tag', undefined],
          ['command', 'NOOP', 'z1'],
        ],
        bad,
      );
    }
  });

  it('a missing or invalid command name is reported with the tag', () => {
    assert.deepEqual(errorsThenNoop('a1'), [
      ['error', 'syntax', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
    assert.deepEqual(errorsThenNoop('a1 "NOOP"'), [
      ['error', 'syntax', 'a1'],
      ['command', 'NOOP', 'z1'],
    ]);
  });

  it('malformed quoted strings, literal sizes and bare CR', () => {
    for (const bad of ['a1 LOGIN "abc', 'a1 LOGIN "a\\b"', 'a1 X {12a}', 'a1 X {5} y', 'a1 X a\rb', 'a1 X \x01']) {
      assert.deepEqual(
        errorsThenNoop(bad),
        [
          ['error', 'syntax', 'a1'],
          ['command', 'NOOP', 'z1'],
        ],
        JSON.stringify(bad),
      );
    }
  });

  it('ignores empty lines', () => {
    assert.deepEqual(errorsThenNoop('\r\n\r\n'), [['command', 'NOOP', 'z1']]);
  });
});

describe('IMAP command reader: raw lines and STARTTLS', () => {
  it('reads IDLE’s DONE as a line, then commands again (RFC 2177 §3)', () => {
    const reader = new CommandReader();
    const events: ReaderEvent[] = [];
    reader.push(b('a1 IDLE\r\nDONE\r\na2 NOOP\r\n'));
    const idle = reader.next();
    assert.equal(idle?.kind === 'command' && idle.name, 'IDLE');
    reader.readLine();
    for (let e = reader.next(); e !== null; e = reader.next()) events.push(e);
    assert.deepEqual(
      events.map((e) => (e.kind === 'line' ? e.line.toString() : e.kind === 'command' ? e.name : e.kind)),
      ['DONE', 'NOOP'],
    );
  });

  it('reads AUTHENTICATE responses as raw lines, a `*` included (RFC 9051 §6.2.2)', () => {
    const reader = new CommandReader();
    reader.push(b('a1 AUTHENTICATE PLAIN\r\nAGJvYgBwdw==\r\n*\r\n'));
    reader.next();
    reader.readLine();
    const first = reader.next();
    reader.readLine();
    const second = reader.next();
    assert.deepEqual(
      [first, second].map((e) => e?.kind === 'line' && e.line.toString()),
      ['AGJvYgBwdw==', '*'],
    );
  });

  it('an over-long raw line is an error, and commands follow', () => {
    const reader = new CommandReader({ limits: { maxLineLength: 10 } });
    reader.readLine();
    const events = reader.feed(b(`${'A'.repeat(50)}\r\na1 NOOP\r\n`));
    assert.deepEqual(
      events.map((e) => (e.kind === 'error' ? e.code : e.kind)),
      ['line-too-long', 'command'],
    );
  });

  it('discards plaintext pipelined after STARTTLS (RFC 9051 §6.2.1)', () => {
    const reader = new CommandReader();
    reader.push(b('a1 STARTTLS\r\na2 DELETE INBOX\r\n'));
    const e = reader.next();
    assert.equal(e?.kind === 'command' && e.name, 'STARTTLS');
    assert.equal(reader.discardBuffered(), 'a2 DELETE INBOX\r\n'.length);
    assert.equal(reader.next(), null);
  });

  it('readLine() is refused in the middle of a command', () => {
    const reader = new CommandReader();
    reader.push(b('a1 NOO'));
    reader.next();
    assert.throws(() => reader.readLine());
  });
});
