/**
 * The IMAP benchmark's client (bench/support/imapClient.ts): response lines split byte-exact around
 * literals (RFC 9051 §4.3 `{n}` at a line end) however the octets arrive, literals kept or only counted,
 * APPENDUID read from the tagged answer (RFC 4315 §3). No server, no timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendUid, type Reply, ResponseParser } from '../../bench/support/imapClient.ts';

const wire = Buffer.from(
  '* 1 FETCH (UID 7 BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: a\r\n\r\n{3}\r\n)\r\n' +
    '* 2 FETCH (BODY[] {0}\r\n)\r\n' +
    'b1 OK FETCH completed\r\n',
  'latin1',
);

function parseInPieces(parser: ResponseParser, sizes: (i: number) => number) {
  const out: { text: string; bytes: number }[] = [];
  for (let at = 0, i = 0; at < wire.length; i++) {
    const n = Math.max(1, sizes(i));
    out.push(...parser.push(wire.subarray(at, at + n)));
    at += n;
  }
  return out;
}

test('lines with literals (even one whose octets look like a literal) are whole, whatever the chunking', () => {
  const expected = [
    '* 1 FETCH (UID 7 BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: a\r\n\r\n{3}\r\n)',
    '* 2 FETCH (BODY[] {0}\r\n)',
    'b1 OK FETCH completed',
  ];
  for (const sizes of [() => wire.length, () => 1, (i: number) => (i % 5) + 1, (i: number) => 7 + (i % 3)]) {
    const lines = parseInPieces(new ResponseParser(true), sizes);
    assert.deepEqual(
      lines.map((l) => l.text),
      expected,
    );
    assert.equal(
      lines.reduce((s, l) => s + l.bytes, 0),
      wire.length,
      'every octet is counted once',
    );
  }
});

test('without keepLiterals the literal octets are skipped but counted', () => {
  const lines = parseInPieces(new ResponseParser(false), (i) => 3 + (i % 4));
  assert.deepEqual(
    lines.map((l) => l.text),
    ['* 1 FETCH (UID 7 BODY[HEADER.FIELDS (SUBJECT)] {19})', '* 2 FETCH (BODY[] {0})', 'b1 OK FETCH completed'],
  );
  assert.equal(
    lines.reduce((s, l) => s + l.bytes, 0),
    wire.length,
  );
});

test('APPENDUID gives the new UID; an answer without it gives none', () => {
  const reply = (text: string): Reply => ({ status: 'OK', text, untagged: [], lines: 0, bytes: 0 });
  assert.equal(appendUid(reply('[APPENDUID 1767225600 4242] APPEND completed')), 4242);
  assert.equal(appendUid(reply('[appenduid 3 9] Append completed.')), 9);
  assert.equal(appendUid(reply('APPEND completed')), undefined);
});
