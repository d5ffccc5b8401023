/**
 * POP3 codec: command parsing, responses, dot-stuffing and TOP cutting, byte for byte, with every way of
 * splitting the input into chunks.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import {
  continuation,
  DotStuffer,
  DotStuffing,
  err,
  MAX_COMMAND_LINE,
  multiline,
  ok,
  parseCommand,
  parseCount,
  parseMessageNumber,
  TopCutter,
} from '../../lib/pop3/codec.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

/** What a client does with a multi-line response body: drop the terminator, un-stuff leading dots. */
function unstuff(wire: Buffer): { lines: Buffer[]; terminated: boolean } {
  const text = wire.toString('latin1');
  assert.ok(text.endsWith('.\r\n'), 'ends with the terminator');
  const lines = text.split('\r\n');
  lines.pop(); // after the final CRLF
  const last = lines.pop();
  return {
    lines: lines.map((l) => b(l.startsWith('.') ? l.slice(1) : l)),
    terminated: last === '.',
  };
}

/** Stuffs `input` delivered in the given chunks. */
function stuffChunks(chunks: Buffer[]): Buffer {
  const st = new DotStuffing();
  return Buffer.concat([...chunks.map((c) => st.stuff(c)), st.finish()]);
}

/** Every split of `input` into two and three chunks. */
function* splits(input: Buffer): Generator<Buffer[]> {
  yield [input];
  for (let i = 0; i <= input.length; i++) {
    yield [input.subarray(0, i), input.subarray(i)];
    for (let j = i; j <= input.length; j += 3) yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
  }
}

describe('parseCommand', () => {
  it('takes keywords case-insensitively (RFC 1939 §3)', () => {
    const c = parseCommand(b('rEtR 12'));
    assert.ok(c.ok);
    assert.equal(c.keyword, 'RETR');
    assert.deepEqual(c.args, ['12']);
  });

  it('keeps the whole rest of the line for PASS (RFC 1939 §7: spaces may be part of the password)', () => {
    const c = parseCommand(b('PASS  my secret  pw'));
    assert.ok(c.ok);
    assert.equal(c.rest, ' my secret  pw');
    assert.deepEqual(c.args, ['my', 'secret', 'pw']);
  });

  it('decodes arguments as UTF-8', () => {
    const c = parseCommand(Buffer.from('PASS pässwörd', 'utf8'));
    assert.ok(c.ok);
    assert.equal(c.rest, 'pässwörd');
  });

  it('accepts a 255-octet line with CRLF and refuses a longer one (RFC 2449 §4)', () => {
    const fits = b(`USER ${'a'.repeat(MAX_COMMAND_LINE - 2 - 5)}`);
    assert.equal(fits.length + 2, 255);
    assert.ok(parseCommand(fits).ok);
    const over = b(`USER ${'a'.repeat(MAX_COMMAND_LINE - 1 - 5)}`);
    const r = parseCommand(over);
    assert.ok(!r.ok);
    assert.match(r.error, /too long/);
  });

  it('lets AUTH lines be longer when allowed (RFC 5034 §4 initial responses)', () => {
    const line = b(`AUTH PLAIN ${'A'.repeat(400)}`);
    assert.ok(!parseCommand(line).ok);
    assert.ok(parseCommand(line, { allowLong: (k) => k === 'AUTH' }).ok);
    assert.ok(!parseCommand(b(`USER ${'a'.repeat(400)}`), { allowLong: (k) => k === 'AUTH' }).ok);
  });

  it('refuses empty lines, malformed keywords and NUL bytes', () => {
    for (const line of ['', ' STAT', 'ST', 'STATUS', 'RE7R 1', '\u00ffSTA']) {
      assert.ok(!parseCommand(b(line)).ok, JSON.stringify(line));
    }
    assert.ok(!parseCommand(b('USER a\0b')).ok);
  });
});

describe('responses', () => {
  it('serialises status lines and response codes (RFC 2449 §8)', () => {
    assert.equal(ok(), '+OK\r\n');
    assert.equal(ok('2 320'), '+OK 2 320\r\n');
    assert.equal(err('locked', 'IN-USE'), '-ERR [IN-USE] locked\r\n');
    assert.equal(err('bad\r\nINJECT'), '-ERR bad INJECT\r\n');
    assert.equal(continuation(), '+ \r\n');
  });

  it('dot-stuffs multi-line responses made of short lines', () => {
    assert.equal(multiline('x', ['A', '.B']), '+OK x\r\nA\r\n..B\r\n.\r\n');
    assert.equal(multiline('none', []), '+OK none\r\n.\r\n');
  });

  it('parses message numbers and counts', () => {
    assert.equal(parseMessageNumber('1'), 1);
    assert.equal(parseMessageNumber('007'), 7);
    for (const bad of ['0', '-1', '1.5', 'x', '', '1e3', '9999999999'])
      assert.equal(parseMessageNumber(bad), undefined, bad);
    assert.equal(parseCount('0'), 0);
    assert.equal(parseCount('-1'), undefined);
  });
});

describe('dot-stuffing (RFC 1939 §3)', () => {
  const cases: Record<string, string> = {
    plain: 'Subject: x\r\n\r\nhello\r\n',
    'leading dots': '.\r\n..\r\n.x\r\nmid.dle\r\n.\r\n',
    'starts with a dot': '.hidden\r\nnext\r\n',
    'no final CRLF': 'Subject: x\r\n\r\nlast line',
    'no final CRLF, dot line': 'a\r\n.',
    'bare LF': 'a\n.b\n',
    binary: '\x00\xff\x80.\r\n.\x00\r\n\xe9t\xe9\r\n',
  };

  for (const [name, text] of Object.entries(cases)) {
    it(`is byte-exact for any chunking: ${name}`, () => {
      const input = b(text);
      const expected = stuffChunks([input]);
      for (const chunks of splits(input)) assert.deepEqual(stuffChunks(chunks), expected);
      if (name === 'bare LF') {
        // A bare LF ends a line for clients too, so the dot after it is stuffed; the bytes are kept as they are.
        assert.equal(expected.toString('latin1'), 'a\n..b\n.\r\n');
        return;
      }
      // Un-stuffing gives the message back; a message without a final line end gets one CRLF added.
      const { lines, terminated } = unstuff(expected);
      assert.ok(terminated);
      const back = Buffer.concat(lines.flatMap((l) => [l, b('\r\n')]));
      assert.deepEqual(back.toString('latin1'), text.endsWith('\n') ? text : `${text}\r\n`);
    });
  }

  it('stuffs exactly the lines that start with a dot', () => {
    assert.equal(stuffChunks([b('.a\r\nb.\r\n.\r\n')]).toString('latin1'), '..a\r\nb.\r\n..\r\n.\r\n');
    assert.equal(stuffChunks([b('x\r'), b('\n.y\r\n')]).toString('latin1'), 'x\r\n..y\r\n.\r\n');
  });

  it('adds CRLF before the terminator only when the message does not end a line', () => {
    assert.equal(stuffChunks([b('a\r\n')]).toString('latin1'), 'a\r\n.\r\n');
    assert.equal(stuffChunks([b('a')]).toString('latin1'), 'a\r\n.\r\n');
    assert.equal(stuffChunks([]).toString('latin1'), '.\r\n');
    assert.equal(stuffChunks([b('')]).toString('latin1'), '.\r\n');
  });

  it('passes a chunk without line-initial dots through untouched (no copy)', () => {
    const st = new DotStuffing();
    const chunk = b('abc\r\ndef\r\n');
    assert.equal(st.stuff(chunk), chunk);
  });

  it('works as a Transform stream', async () => {
    const out = await buffer(Readable.from([b('.a\r'), b('\n.'), b('b')]).pipe(new DotStuffer()));
    assert.equal(out.toString('latin1'), '..a\r\n..b\r\n.\r\n');
  });

  it('handles a 1 MB message in small chunks with the same result', () => {
    const line = '.0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n';
    const input = b(line.repeat(Math.ceil(1_000_000 / line.length)));
    const whole = stuffChunks([input]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 997) chunks.push(input.subarray(i, i + 997));
    assert.deepEqual(stuffChunks(chunks), whole);
    assert.equal(whole.length, input.length + input.length / line.length + 3);
  });
});

describe('TopCutter (RFC 1939 §7 TOP msg n)', () => {
  const msg = b('From: a\r\nSubject: s\r\n\r\nline1\r\nline2\r\nline3\r\n');
  const cut = (input: Buffer, n: number, chunks = [input]) => {
    const c = new TopCutter(n);
    const out: Buffer[] = [];
    for (const chunk of chunks) {
      out.push(c.feed(chunk));
      if (c.done) break;
    }
    return Buffer.concat(out).toString('latin1');
  };

  it('sends the header and the blank line for n = 0', () => {
    assert.equal(cut(msg, 0), 'From: a\r\nSubject: s\r\n\r\n');
  });

  it('sends n body lines', () => {
    assert.equal(cut(msg, 2), 'From: a\r\nSubject: s\r\n\r\nline1\r\nline2\r\n');
    assert.equal(cut(msg, 99), msg.toString('latin1'));
  });

  it('gives the same result for every chunking', () => {
    for (const n of [0, 1, 2, 5]) {
      const expected = cut(msg, n);
      for (const chunks of splits(msg)) assert.equal(cut(msg, n, chunks), expected, `n=${n}`);
    }
  });

  it('handles a message without a body, LF-only line ends, and a message starting with the blank line', () => {
    assert.equal(cut(b('From: a\r\nSubject: s\r\n'), 0), 'From: a\r\nSubject: s\r\n');
    assert.equal(cut(b('From: a\n\nbody1\nbody2\n'), 1), 'From: a\n\nbody1\n');
    assert.equal(cut(b('\r\nbody\r\nmore\r\n'), 1), '\r\nbody\r\n');
  });

  it('says when it is done, so the rest of the blob is not read', () => {
    const c = new TopCutter(1);
    c.feed(b('H: v\r\n\r\nb1\r\n'));
    assert.ok(c.done);
    assert.equal(c.feed(b('more\r\n')).length, 0);
  });
});
