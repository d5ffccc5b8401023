/**
 * Round trips: strings the writer encodes come back unchanged through the reader and parser, and commands
 * a real client library (imapflow's compiler) encodes parse to what the client meant, in any chunking.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compiler } from 'imapflow/lib/handler/imap-handler.js';
import { astr, SegmentWriter, str, type Value } from '../../lib/imap/codec/encode.ts';
import { parseCommand } from '../../lib/imap/codec/parse.ts';
import { chunk, prng, runRaw } from './imap-codec-helpers.ts';

const TRICKY = [
  '',
  'plain',
  'NIL',
  'with space',
  'quote " inside',
  'back\\slash',
  '"\\"',
  'line\r\nbreak',
  'cr\ronly',
  'tab\there',
  'ünïcödé 台北',
  '(parens) {braces} [brackets] %*',
  'x'.repeat(3000),
];

function encoded(v: Value, utf8: boolean): Buffer {
  return Buffer.concat(new SegmentWriter().value(v, { utf8 }).finish() as Buffer[]);
}

function parseBytes(bytes: Buffer, utf8: boolean, seed = 0) {
  const random = prng(seed);
  const chunks = seed === 0 ? [bytes] : chunk(bytes, () => 1 + Math.floor(random() * 16));
  const events = runRaw(chunks).filter((e) => e.kind === 'command');
  assert.equal(events.length, 1);
  const e = events[0];
  assert.ok(e.kind === 'command');
  return parseCommand(e, { utf8 });
}

describe('round trip: writer strings through reader and parser', () => {
  for (const utf8 of [false, true]) {
    for (const value of TRICKY) {
      it(`${JSON.stringify(value.slice(0, 30))} as string and astring (utf8 ${utf8})`, () => {
        for (const make of [str, astr]) {
          const line = Buffer.concat([
            Buffer.from('a LOGIN '),
            encoded(make(value), utf8),
            Buffer.from(' '),
            encoded(str(value), utf8),
            Buffer.from('\r\n'),
          ]);
          const result = parseBytes(line, utf8, value.length);
          assert.ok(result.ok, result.ok ? '' : result.message);
          assert.deepEqual(result.command, { type: 'LOGIN', tag: 'a', username: value, password: value });
        }
      });
    }
  }
});

describe('round trip: commands a client library encodes', () => {
  const compile = (attributes: Parameters<typeof compiler>[0]) =>
    Buffer.concat([...compiler(attributes, { asArray: true }), Buffer.from('\r\n')]);

  it('LOGIN with strings that need quoting and literals', () => {
    const bytes = compile({
      tag: 'A1',
      command: 'LOGIN',
      attributes: [
        { type: 'STRING', value: 'user "x"' },
        { type: 'LITERAL', value: 'pa\r\nss' },
      ],
    });
    for (let seed = 0; seed < 20; seed++) {
      const r = parseBytes(bytes, false, seed);
      assert.deepEqual(r.ok && r.command, { type: 'LOGIN', tag: 'A1', username: 'user "x"', password: 'pa\r\nss' });
    }
  });

  it('APPEND with flags, date and a message literal', () => {
    const message = 'Subject: hi\r\n\r\nbody\r\n';
    const bytes = compile({
      tag: 'A2',
      command: 'APPEND',
      attributes: [
        { type: 'ATOM', value: 'Sent' },
        [{ type: 'ATOM', value: '\\Seen' }],
        { type: 'STRING', value: '14-Jul-2024 08:30:00 +0200' },
        { type: 'LITERAL', value: message },
      ],
    });
    for (let seed = 0; seed < 20; seed++) {
      const random = prng(seed + 1);
      const chunks = seed === 0 ? [bytes] : chunk(bytes, () => 1 + Math.floor(random() * 9));
      const events = runRaw(chunks);
      const data = Buffer.concat(events.flatMap((e) => (e.kind === 'literal-data' ? [e.data] : [])));
      assert.equal(data.toString(), message);
      const done = events.at(-1);
      assert.ok(done?.kind === 'command');
      const r = parseCommand(done);
      assert.ok(r.ok && r.command.type === 'APPEND');
      assert.deepEqual(r.command.messages[0].flags, ['\\Seen']);
      assert.deepEqual(r.command.messages[0].internalDate?.date, new Date('2024-07-14T06:30:00Z'));
    }
  });

  it('UID SEARCH with a literal string and nested keys', () => {
    const bytes = compile({
      tag: 'A3',
      command: 'UID SEARCH',
      attributes: [
        { type: 'ATOM', value: 'CHARSET' },
        { type: 'ATOM', value: 'UTF-8' },
        { type: 'ATOM', value: 'OR' },
        [
          { type: 'ATOM', value: 'SUBJECT' },
          { type: 'LITERAL', value: 'Grüße' },
        ],
        { type: 'ATOM', value: 'UNSEEN' },
      ],
    });
    const r = parseBytes(bytes, false);
    assert.deepEqual(r.ok && r.command, {
      type: 'SEARCH',
      tag: 'A3',
      uid: true,
      charset: 'UTF-8',
      criteria: [{ type: 'OR', left: { type: 'SUBJECT', value: 'Grüße' }, right: { type: 'UNSEEN' } }],
    });
  });
});
