/**
 * ENVELOPE and BODYSTRUCTURE/BODY from the stored summary (RFC 9051 §7.5.2, RFC 3501 §7.4.2), against
 * hand-written expected strings and against an independent parser (imapflow's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parser } from 'imapflow/lib/handler/imap-handler.js';
import { parseBodystructure, parseEnvelope } from 'imapflow/lib/tools.js';
import { SegmentWriter, type Value } from '../../lib/imap/codec/encode.ts';
import { bodyValue, envelopeValue } from '../../lib/imap/codec/writeBody.ts';
import { fetchResponseBuffer } from '../../lib/imap/codec/writeFetch.ts';
import { type BodyPart, summarizeBuffer } from '../../lib/mime/summary.ts';

function wire(v: Value, utf8 = false): string {
  return Buffer.concat(new SegmentWriter().value(v, { utf8 }).finish() as Buffer[]).toString('utf8');
}

const INNER = [
  'From: Bob <bob@example.org>',
  'Subject: inner',
  'Date: Mon, 1 Jan 2024 00:00:00 +0000',
  'Message-ID: <inner@example.org>',
  '',
  'Inner body.',
  '',
].join('\r\n');

/** multipart/mixed: multipart/alternative (text/plain + text/html), a PDF attachment, a message/rfc822. */
const MESSAGE = Buffer.from(
  [
    'From: "Alice \\"A\\" Smith" <alice@example.com>',
    'To: undisclosed-recipients:;, carol@example.net',
    'Cc: Team: dave@example.com, Eve <eve@example.com>;',
    'Subject: Report',
    'Date: Tue, 2 Jan 2024 10:00:00 +0100',
    'Message-ID: <outer@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    'preamble',
    '--mix',
    'Content-Type: multipart/alternative; boundary=alt',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Hello, world.\r\nSecond line.', // 27 octets, 2 lines
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Hello</p>', // 12 octets, 1 line
    '--alt--',
    '',
    '--mix',
    'Content-Type: application/pdf; name="report.pdf"',
    'Content-Disposition: attachment; filename="report.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <pdf1@example.com>',
    'Content-Description: The report',
    'Content-Language: en, de',
    'Content-Location: http://example.com/report.pdf',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    '',
    'JVBERi0xLjQK', // 12 octets
    '--mix',
    'Content-Type: message/rfc822',
    '',
    INNER, // 131 octets, 6 lines; its body "Inner body.\r\n" 13 octets, 1 line
    '--mix--',
    '',
  ].join('\r\n'),
);

const INNER_ENVELOPE =
  '("Mon, 1 Jan 2024 00:00:00 +0000" "inner" (("Bob" NIL "bob" "example.org")) (("Bob" NIL "bob" "example.org"))' +
  ' (("Bob" NIL "bob" "example.org")) NIL NIL NIL NIL "<inner@example.org>")';

const EXPECTED_BODYSTRUCTURE =
  '(' +
  '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 27 2 NIL NIL NIL NIL)' +
  '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)' +
  ' "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)' +
  '("APPLICATION" "PDF" ("NAME" "report.pdf") "<pdf1@example.com>" "The report" "BASE64" 12' +
  ' "Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME" "report.pdf")) ("en" "de") "http://example.com/report.pdf")' +
  `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 131 ${INNER_ENVELOPE}` +
  ' ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 13 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)' +
  ' "MIXED" ("BOUNDARY" "mix") NIL NIL NIL)';

const EXPECTED_BODY =
  '(' +
  '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 27 2)' +
  '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 1) "ALTERNATIVE")' +
  '("APPLICATION" "PDF" ("NAME" "report.pdf") "<pdf1@example.com>" "The report" "BASE64" 12)' +
  `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 131 ${INNER_ENVELOPE}` +
  ' ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 13 1) 6)' +
  ' "MIXED")';

const EXPECTED_ENVELOPE =
  '("Tue, 2 Jan 2024 10:00:00 +0100" "Report"' +
  ' (("Alice \\"A\\" Smith" NIL "alice" "example.com")) (("Alice \\"A\\" Smith" NIL "alice" "example.com"))' +
  ' (("Alice \\"A\\" Smith" NIL "alice" "example.com"))' +
  ' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)(NIL NIL "carol" "example.net"))' +
  ' ((NIL NIL "Team" NIL)(NIL NIL "dave" "example.com")("Eve" NIL "eve" "example.com")(NIL NIL NIL NIL))' +
  ' NIL NIL "<outer@example.com>")';

describe('BODYSTRUCTURE and BODY (RFC 9051 §7.5.2)', () => {
  const summary = summarizeBuffer(MESSAGE);

  it('multipart/mixed with multipart/alternative, an attachment with every extension field, and message/rfc822', () => {
    assert.equal(wire(bodyValue(summary.body, true)), EXPECTED_BODYSTRUCTURE);
  });

  it('BODY is the same without extension data (RFC 3501 §7.4.2 BODY)', () => {
    assert.equal(wire(bodyValue(summary.body, false)), EXPECTED_BODY);
  });

  it('an independent parser reads the same structure (imapflow)', async () => {
    const line = fetchResponseBuffer(1, [{ item: 'BODYSTRUCTURE', body: summary.body }], { utf8: false });
    const parsed = await parser(line.subarray(0, -2));
    const attrs = parsed.attributes?.[1];
    assert.ok(Array.isArray(attrs));
    const tree = parseBodystructure(attrs[1] as Parameters<typeof parseBodystructure>[0]);
    assert.equal(tree.type, 'multipart/mixed');
    const [alt, pdf, rfc822] = tree.childNodes ?? [];
    assert.deepEqual(
      alt.childNodes?.map((c) => [c.part, c.type, c.size, c.lineCount]),
      [
        ['1.1', 'text/plain', 27, 2],
        ['1.2', 'text/html', 12, 1],
      ],
    );
    assert.deepEqual(
      [pdf.part, pdf.type, pdf.disposition, pdf.dispositionParameters, pdf.language, pdf.location],
      ['2', 'application/pdf', 'attachment', { filename: 'report.pdf' }, ['en', 'de'], 'http://example.com/report.pdf'],
    );
    assert.deepEqual(
      [rfc822.part, rfc822.type, rfc822.envelope?.subject, rfc822.lineCount],
      ['3', 'message/rfc822', 'inner', 6],
    );
  });

  it('a single text part: size and lines (RFC 9051 §7.5.2 body-type-text)', () => {
    const s = summarizeBuffer(Buffer.from('Subject: x\r\n\r\nline 1\r\nline 2\r\n'));
    assert.equal(wire(bodyValue(s.body, false)), '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 16 2)');
  });

  it('a multipart the summary could not look into still has a body (grammar: 1*body)', () => {
    const part: BodyPart = { ...summary.body, parts: [] };
    assert.equal(wire(bodyValue(part, false)), '(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0) "MIXED")');
  });

  // The summary keeps no line count for a message/rfc822 part it did not open, so body-fld-lines is 0.
  it('message/rfc822 the summary did not parse (base64) still carries envelope, body and lines', () => {
    const s = summarizeBuffer(
      Buffer.from(
        'Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQp4DQo=\r\n',
      ),
    );
    assert.equal(
      wire(bodyValue(s.body, false)),
      '("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 26 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)' +
        ' ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0) 0)',
    );
  });

  it('8-bit parameter values are literals outside UTF-8 mode and quoted inside it', () => {
    const s = summarizeBuffer(
      Buffer.from("Content-Type: application/octet-stream; name*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n\r\nx"),
    );
    assert.match(wire(bodyValue(s.body, false)), /\("NAME" \{12\}\r\nrésumé\.pdf\)/);
    assert.match(wire(bodyValue(s.body, false), true), /\("NAME" "résumé\.pdf"\)/);
  });
});

describe('ENVELOPE (RFC 9051 §7.5.2)', () => {
  const summary = summarizeBuffer(MESSAGE);

  it('groups, escaped quotes, Sender and Reply-To from From, NIL fields', () => {
    assert.equal(wire(envelopeValue(summary.envelope)), EXPECTED_ENVELOPE);
  });

  it('an independent parser reads it back', async () => {
    const line = fetchResponseBuffer(7, [{ item: 'ENVELOPE', envelope: summary.envelope }], { utf8: false });
    const parsed = await parser(line.subarray(0, -2));
    const attrs = parsed.attributes?.[1];
    assert.ok(Array.isArray(attrs));
    const env = parseEnvelope(attrs[1] as Parameters<typeof parseEnvelope>[0]);
    assert.equal(env.subject, 'Report');
    assert.equal(env.messageId, '<outer@example.com>');
    assert.deepEqual(env.from, [{ name: 'Alice "A" Smith', address: 'alice@example.com' }]);
  });

  it('a subject with CR LF is sent as a literal, never quoted', () => {
    const env = { ...summary.envelope, subject: 'a\r\n b' };
    assert.match(wire(envelopeValue(env)), /^\("Tue, 2 Jan 2024 10:00:00 \+0100" \{5\}\r\na\r\n b /);
  });
});
