import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseAddressList } from '../../lib/mime/addresses.ts';
import { decodeWords, parseParameterized } from '../../lib/mime/headers.ts';
import { MimeParser, parseMime } from '../../lib/mime/parser.ts';
import { type BodyPart, boundSummary, forCopy, SummaryBuilder, summarizeBuffer } from '../../lib/mime/summary.ts';

const fixture = (name: string) =>
  Buffer.from(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').replace(/\r?\n/g, '\r\n'));

const slice = (msg: Buffer, p: { bodyStart: number; bodyEnd: number }) =>
  msg.subarray(p.bodyStart, p.bodyEnd).toString();

describe('MIME tree and summary', () => {
  const msg = fixture('mime-nested.eml');
  const s = summarizeBuffer(msg);

  test('size, header size and envelope (RFC 3501 §7.4.2)', () => {
    assert.equal(s.size, msg.length);
    assert.equal(msg.subarray(s.headerSize - 4, s.headerSize).toString(), '\r\n\r\n');
    assert.equal(s.envelope.subject, '=?ISO-8859-1?Q?Gr=FC=DFe?= aus Berlin');
    assert.equal(s.envelope.messageId, '<nested-1@sender.test>');
    assert.equal(s.envelope.inReplyTo, '<parent@sender.test>');
    assert.deepEqual(s.envelope.from, [
      { name: '=?UTF-8?B?SsO8cmdlbg==?=', adl: null, mailbox: 'juergen', host: 'sender.test' },
      { name: 'Doe, John', adl: null, mailbox: 'john', host: 'sender.test' },
    ]);
    assert.deepEqual(s.envelope.sender, s.envelope.from);
    assert.deepEqual(s.envelope.replyTo, s.envelope.from);
    assert.deepEqual(s.envelope.to, [
      { name: null, adl: null, mailbox: 'Friends', host: null },
      { name: null, adl: null, mailbox: 'anna', host: 'ours.test' },
      { name: 'B. B.', adl: null, mailbox: 'bb', host: 'ours.test' },
      { name: null, adl: null, mailbox: null, host: null },
      { name: 'Carl C', adl: null, mailbox: 'carl', host: 'ours.test' },
    ]);
    assert.equal(s.envelope.cc, null);
    assert.equal(s.sentDate, Date.UTC(2025, 2, 4, 9, 0, 0));
  });

  test('decoded search headers', () => {
    assert.equal(s.headers.subject, 'Grüße aus Berlin');
    assert.equal(s.headers.from, 'Jürgen <juergen@sender.test>, Doe, John <john@sender.test>');
    assert.match(s.headers.to ?? '', /anna@ours\.test/);
  });

  test('bodystructure with byte-exact part offsets and line counts', () => {
    const root = s.body;
    assert.equal(root.type, 'multipart');
    assert.equal(root.subtype, 'mixed');
    assert.equal(root.params.boundary, 'outer');
    assert.equal(root.parts?.length, 3);
    const [alt, rfc822, pdf] = root.parts as BodyPart[];
    assert.equal(alt.subtype, 'alternative');
    const [plain, html] = alt.parts as BodyPart[];
    assert.equal(slice(msg, plain), 'Hallo =C3=BCber\r\nzweite Zeile');
    assert.equal(plain.lines, 2);
    assert.equal(plain.encoding, 'QUOTED-PRINTABLE');
    assert.equal(plain.params.charset, 'utf-8');
    assert.equal(slice(msg, html), '<p>Hallo</p>');
    assert.equal(html.lines, 1);
    assert.equal(html.encoding, '7BIT');
    assert.equal(
      msg.subarray(plain.headerStart, plain.bodyStart).toString().startsWith('Content-Type: text/plain'),
      true,
    );

    assert.equal(rfc822.type, 'message');
    assert.equal(rfc822.subtype, 'rfc822');
    assert.equal(rfc822.disposition?.type, 'inline');
    assert.equal(
      slice(msg, rfc822),
      'From: inner@sender.test\r\nSubject: inner message\r\nContent-Type: text/plain\r\n\r\ninner body',
    );
    assert.equal(rfc822.lines, 5);
    assert.equal(rfc822.message?.envelope.subject, 'inner message');
    assert.equal(slice(msg, rfc822.message!.body), 'inner body');
    assert.equal(rfc822.message?.body.lines, 1);

    assert.equal(pdf.type, 'application');
    assert.equal(pdf.params.name, 'résumé.pdf');
    assert.equal(pdf.disposition?.params.filename, 'longname.pdf');
    assert.equal(pdf.id, '<pdf@sender.test>');
    assert.equal(pdf.encoding, 'BASE64');
    assert.equal(slice(msg, pdf), 'JVBERi0xLjQK');
    assert.equal(pdf.lines, undefined);
    assert.equal(s.hasAttachments, true);
  });

  test('the structure does not depend on how the input is chunked', () => {
    for (const size of [1, 2, 3, 5, 13, 64]) {
      const b = new SummaryBuilder();
      for (let i = 0; i < msg.length; i += size) b.write(msg.subarray(i, i + size));
      assert.deepEqual(b.end(), s, `chunk size ${size}`);
    }
  });

  test('forCopy shifts every offset by the header prefix and grows only the top header', () => {
    const prefix = 'Return-Path: <a@b>\r\nDelivered-To: bob@ours.test\r\n';
    const copy = Buffer.concat([Buffer.from(prefix), msg]);
    const shifted = forCopy(s, prefix);
    assert.equal(shifted.size, copy.length);
    assert.equal(shifted.headerSize, s.headerSize + prefix.length);
    const plain = (shifted.body.parts as BodyPart[])[0].parts![0];
    assert.equal(slice(copy, plain), 'Hallo =C3=BCber\r\nzweite Zeile');
    assert.equal(shifted.body.headerStart, 0);
    assert.deepEqual(summarizeBuffer(copy).body, shifted.body);
  });

  test('a plain message: body lines, including ones that start with dots', () => {
    const plain = fixture('plain.eml');
    const p = summarizeBuffer(plain);
    assert.equal(p.body.type, 'text');
    assert.equal(p.body.params.charset, 'us-ascii');
    assert.equal(p.lines, 5);
    assert.equal(p.body.lines, 5);
    assert.equal(
      slice(plain, p.body),
      'First line.\r\n.A line starting with a dot\r\n..Two dots\r\n.\r\nLast line.\r\n',
    );
  });

  test('nesting depth and part count are bounded; the rest is an opaque part', () => {
    let text = 'Content-Type: multipart/mixed; boundary=b0\r\n\r\n';
    const depth = 50;
    for (let i = 1; i <= depth; i++) text += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary=b${i}\r\n\r\n`;
    text += `--b${depth}\r\n\r\nleaf\r\n`;
    for (let i = depth; i >= 0; i--) text += `--b${i}--\r\n`;
    const tree = parseMime(Buffer.from(text), { maxDepth: 8, maxParts: 500, maxHeaderBytes: 4096 });
    let d = 0;
    let node = tree;
    while (node.children.length) {
      node = node.children[0];
      d++;
    }
    assert.equal(d, 8);
    assert.equal(node.type, 'application');

    let many = 'Content-Type: multipart/mixed; boundary=x\r\n\r\n';
    for (let i = 0; i < 100; i++) many += `--x\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    many += '--x--\r\n';
    const limited = parseMime(Buffer.from(many), { maxDepth: 8, maxParts: 10, maxHeaderBytes: 4096 });
    assert.equal(limited.children.length, 9);
  });

  test('boundSummary keeps the index item small', () => {
    const bounded = boundSummary(s, 100);
    assert.equal(bounded.truncated, true);
    assert.equal(bounded.body.parts, undefined);
    assert.equal(boundSummary(s), s);
  });

  test('a part without a closing boundary ends at the end of the message', () => {
    const text = Buffer.from('Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nunterminated\r\n');
    const p = new MimeParser();
    p.write(text);
    const root = p.end();
    assert.equal(root.children.length, 1);
    assert.equal(text.subarray(root.children[0].bodyStart, root.children[0].bodyEnd).toString(), 'unterminated\r\n');
  });
});

describe('header helpers', () => {
  test('encoded words (RFC 2047): B and Q, adjacent words joined', () => {
    assert.equal(decodeWords('=?utf-8?q?a_b?= =?utf-8?b?w7w=?= plain'), 'a bü plain');
    assert.equal(decodeWords('=?x-unknown?q?caf=E9?='), 'café');
  });

  test('parameters (RFC 2045, RFC 2231)', () => {
    const p = parseParameterized(
      'Text/Plain; charset="UTF-8" (comment); format=flowed; title*=us-ascii\'en\'This%20is',
    );
    assert.equal(p.value, 'text/plain');
    assert.deepEqual(p.params, { charset: 'UTF-8', format: 'flowed', title: 'This is' });
  });

  test('address lists with comments, quotes and route-addr', () => {
    assert.deepEqual(parseAddressList('<@relay.test:user@host.test>'), [
      { name: null, adl: '@relay.test', mailbox: 'user', host: 'host.test' },
    ]);
    assert.deepEqual(parseAddressList('"a\\"b" <x@y.test>, undisclosed-recipients:;'), [
      { name: 'a"b', adl: null, mailbox: 'x', host: 'y.test' },
      { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
      { name: null, adl: null, mailbox: null, host: null },
    ]);
  });
});
