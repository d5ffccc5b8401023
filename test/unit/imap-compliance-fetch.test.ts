/**
 * IMAP compliance: FETCH of BODYSTRUCTURE, BODY, ENVELOPE and body sections (RFC 3501 §6.4.5 and §7.4.2,
 * RFC 9051 §6.4.5 and §7.5.2) for the message shapes real mail has: no Content-Type, multipart/alternative,
 * attachments with disposition, language and location, nested message/rfc822, multipart/signed, a missing
 * final boundary, 8bit, header only, bare LF. Sizes are counted from the parts as written here.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ImapClient } from '../protocol/imap-support.ts';
import { complianceServer, crlf } from './imap-compliance-support.ts';

const env = complianceServer();

/** Lines of a body as BODYSTRUCTURE counts them: line ends, plus a last line without one. */
const lines = (text: string): number => (text.match(/\n/g)?.length ?? 0) + (text === '' || text.endsWith('\n') ? 0 : 1);
const len = (text: string): number => Buffer.byteLength(text, 'latin1');

const PLAIN_BODY = crlf('line one\nline two\n');
const PLAIN = crlf('From: a@example.com\nSubject: plain\n\n') + PLAIN_BODY;

const ALT_TEXT = 'plain text';
const ALT_HTML = '<p>html=3D</p>';
const ALT = crlf(
  'From: a@example.com\nSubject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="alt"\n\n' +
    `preamble\n--alt\nContent-Type: text/plain; charset=utf-8\n\n${ALT_TEXT}\n--alt\n` +
    `Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${ALT_HTML}\n--alt--\nepilogue\n`,
);

const MIX_TEXT = 'See attached.';
const MIX_PDF = 'JVBERi0xLjQK';
const MIX_PNG = 'iVBORw0KGgo=';
const MIX_ALT_HTML_MIME = crlf('Content-Type: text/html\n\n');
const MIXED = crlf(
  'From: a@example.com\nSubject: mixed\nContent-Type: multipart/mixed; boundary=mix\n\n' +
    '--mix\nContent-Type: multipart/alternative; boundary=inner\n\n' +
    `--inner\nContent-Type: text/plain; charset=us-ascii\nContent-Language: en, de\n\n${MIX_TEXT}\n` +
    `--inner\n${MIX_ALT_HTML_MIME}<p>See attached.</p>\n--inner--\n` +
    '--mix\nContent-Type: application/pdf; name="doc.pdf"\n' +
    'Content-Disposition: attachment;\n filename="doc.pdf"; size=9\nContent-Transfer-Encoding: base64\n' +
    'Content-ID: <id1@example.com>\nContent-Description: A document\nContent-Location: http://example.com/doc.pdf\n' +
    `Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\n${MIX_PDF}\n` +
    '--mix\nContent-Type: image/png\nContent-Transfer-Encoding: BASE64\n' +
    `Content-Disposition: inline; filename*0="long"; filename*1="name.png"\n\n${MIX_PNG}\n--mix--\n`,
);

const INNER_PLAIN = 'inner plain';
const INNER_HTML = '<b>inner</b>';
const INNER_HEADER = crlf(
  'From: Inner <inner@example.org>\nSubject: inner\nDate: Tue, 1 Jan 2002 10:00:00 +0000\n' +
    'Message-ID: <inner@example.org>\nContent-Type: multipart/alternative; boundary="in"\n\n',
);
const INNER_TEXT = crlf(
  `--in\nContent-Type: text/plain\n\n${INNER_PLAIN}\n--in\nContent-Type: text/html\n\n${INNER_HTML}\n--in--`,
);
const INNER = INNER_HEADER + INNER_TEXT;
const NESTED = crlf(
  'From: Outer <outer@example.com>\nTo: alice@example.com\nSubject: fwd\nMIME-Version: 1.0\n' +
    'Content-Type: multipart/mixed; boundary="outer"\n\n--outer\nContent-Type: text/plain\n\nsee below\n' +
    `--outer\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n${INNER}\n--outer--\n`,
);

const SIGNED_TEXT = 'signed text';
const SIGNATURE = crlf('-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----');
const SIGNED = crlf(
  'From: a@example.com\nSubject: signed\nContent-Type: multipart/signed; protocol="application/pgp-signature";\n' +
    ' micalg=pgp-sha256; boundary="sig"\n\n' +
    `--sig\nContent-Type: text/plain\n\n${SIGNED_TEXT}\n--sig\n` +
    `Content-Type: application/pgp-signature; name="signature.asc"\n\n${SIGNATURE}\n--sig--\n`,
);

const UNCLOSED_TWO = crlf('two\n');
const UNCLOSED =
  crlf(
    'Subject: unclosed\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n' +
      '--b\nContent-Type: text/plain\n\n',
  ) + UNCLOSED_TWO;

const EIGHT_BODY = Buffer.from('caf\xc3\xa9 cr\xc3\xa8me\r\n', 'latin1').toString('latin1');
const EIGHT = `${crlf('Subject: 8bit\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n')}${EIGHT_BODY}`;

const HEADER_ONLY = crlf('From: a@example.com\nSubject: header only\n');

const LF_BODY = 'one\ntwo\n';
const BARE_LF = `Subject: bare\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\n${LF_BODY}--z--\n`;

const ENVELOPES = crlf(
  'Date: Wed, 2 Dec 2026 08:00:00 +0100\nSubject: =?UTF-8?B?SGVsbG8gd8O2cmxk?=\n' +
    'From: "Doe, John \\"JD\\"" <john@example.com>, mary@example.net\n' +
    'Reply-To:\nTo: undisclosed-recipients:;\n' +
    'Cc: Friends: a@x.example, "B" <b@y.example>;, <@route.example:c@z.example>\n' +
    'In-Reply-To: <parent@example.com>\nMessage-ID: <id@example.com>\n\nbody\n',
);
const NO_FIELDS = crlf('X-Nothing: here\n\nbody\n');
const NO_HOST = crlf('From: Local Only <localonly>\nTo: nobody, @\nSubject: folded\n  subject\n\nbody\n');

const SIMPLE_INNER_BODY = crlf('just text\n');
const SIMPLE_INNER = crlf('Subject: simple inner\nFrom: s@example.org\n\n') + SIMPLE_INNER_BODY;
const NESTED_PLAIN = crlf(
  'Subject: fwd plain\nContent-Type: multipart/mixed; boundary=np\n\n--np\nContent-Type: text/plain\n\nsee\n' +
    `--np\nContent-Type: message/rfc822\n\n${SIMPLE_INNER}--np--\n`,
);

const order = [
  PLAIN,
  ALT,
  MIXED,
  NESTED,
  SIGNED,
  UNCLOSED,
  EIGHT,
  HEADER_ONLY,
  BARE_LF,
  ENVELOPES,
  NO_FIELDS,
  NO_HOST,
  NESTED_PLAIN,
];
const seqOf = (m: string): number => order.indexOf(m) + 1;
const INTERNAL = Date.UTC(2024, 2, 5, 9, 11, 12);

let c: ImapClient;
before(async () => {
  await env.ready();
  await env.mailboxWith('Shapes', order, { internalDate: INTERNAL });
  c = await env.login();
  await c.cmd('EXAMINE Shapes');
});

async function fetchOne(m: string, items: string): Promise<string> {
  const r = await c.cmd(`FETCH ${seqOf(m)} (${items})`);
  assert.match(r.status, /OK/);
  assert.equal(r.untagged.length, 1, r.untagged.join('\n'));
  return r.untagged[0];
}

const fetched = (m: string, inner: string): string => `* ${seqOf(m)} FETCH (${inner})`;
const lit = (text: string): string => `{${len(text)}}\r\n${text}`;

describe('IMAP compliance: BODYSTRUCTURE and BODY (RFC 3501 §7.4.2, RFC 9051 §7.5.2)', () => {
  it('a message without Content-Type is text/plain; charset=us-ascii (RFC 2045 §5.2)', async () => {
    const body = `"TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" ${len(PLAIN_BODY)} ${lines(PLAIN_BODY)}`;
    assert.equal(
      await fetchOne(PLAIN, 'BODYSTRUCTURE BODY'),
      fetched(PLAIN, `BODYSTRUCTURE (${body} NIL NIL NIL NIL) BODY (${body})`),
    );
  });

  it('multipart/alternative with text and html: parts, subtype, boundary parameter; BODY has no extension data', async () => {
    const t = `"TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" ${len(ALT_TEXT)} 1`;
    const h = `"TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" ${len(ALT_HTML)} 1`;
    assert.equal(
      await fetchOne(ALT, 'BODYSTRUCTURE BODY'),
      fetched(
        ALT,
        `BODYSTRUCTURE ((${t} NIL NIL NIL NIL)(${h} NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL) ` +
          `BODY ((${t})(${h}) "ALTERNATIVE")`,
      ),
    );
  });

  it('multipart/mixed with a nested alternative and attachments: id, description, MD5, disposition, language, location, RFC 2231 continuations', async () => {
    const text = `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" ${len(MIX_TEXT)} 1 NIL NIL ("en" "de") NIL)`;
    const html = `("TEXT" "HTML" NIL NIL NIL "7BIT" 20 1 NIL NIL NIL NIL)`;
    const pdf =
      `("APPLICATION" "PDF" ("NAME" "doc.pdf") "<id1@example.com>" "A document" "BASE64" ${len(MIX_PDF)} ` +
      '"Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME" "doc.pdf" "SIZE" "9")) NIL "http://example.com/doc.pdf")';
    const png = `("IMAGE" "PNG" NIL NIL NIL "BASE64" ${len(MIX_PNG)} NIL ("INLINE" ("FILENAME" "longname.png")) NIL NIL)`;
    assert.equal(
      await fetchOne(MIXED, 'BODYSTRUCTURE'),
      fetched(
        MIXED,
        `BODYSTRUCTURE ((${text}${html} "ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL)${pdf}${png} "MIXED" ("BOUNDARY" "mix") NIL NIL NIL)`,
      ),
    );
  });

  it('message/rfc822: envelope, body structure and line count of the inner message (RFC 3501 §7.4.2 body-type-msg)', async () => {
    const env2 =
      '("Tue, 1 Jan 2002 10:00:00 +0000" "inner" (("Inner" NIL "inner" "example.org")) (("Inner" NIL "inner" "example.org")) ' +
      '(("Inner" NIL "inner" "example.org")) NIL NIL NIL NIL "<inner@example.org>")';
    const innerBody =
      `(("TEXT" "PLAIN" NIL NIL NIL "7BIT" ${len(INNER_PLAIN)} 1 NIL NIL NIL NIL)` +
      `("TEXT" "HTML" NIL NIL NIL "7BIT" ${len(INNER_HTML)} 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "in") NIL NIL NIL)`;
    const msg = `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${len(INNER)} ${env2} ${innerBody} ${lines(INNER)} NIL ("INLINE" NIL) NIL NIL)`;
    const first = '("TEXT" "PLAIN" NIL NIL NIL "7BIT" 9 1 NIL NIL NIL NIL)';
    assert.equal(
      await fetchOne(NESTED, 'BODYSTRUCTURE'),
      fetched(NESTED, `BODYSTRUCTURE (${first}${msg} "MIXED" ("BOUNDARY" "outer") NIL NIL NIL)`),
    );
    const bodyInner = `(("TEXT" "PLAIN" NIL NIL NIL "7BIT" ${len(INNER_PLAIN)} 1)("TEXT" "HTML" NIL NIL NIL "7BIT" ${len(INNER_HTML)} 1) "ALTERNATIVE")`;
    assert.equal(
      await fetchOne(NESTED, 'BODY'),
      fetched(
        NESTED,
        `BODY (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 9 1)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${len(INNER)} ${env2} ${bodyInner} ${lines(INNER)}) "MIXED")`,
      ),
    );
  });

  it('multipart/signed: protocol and micalg parameters in order, and the signed part byte-exact (RFC 1847)', async () => {
    const t = `("TEXT" "PLAIN" NIL NIL NIL "7BIT" ${len(SIGNED_TEXT)} 1 NIL NIL NIL NIL)`;
    const s = `("APPLICATION" "PGP-SIGNATURE" ("NAME" "signature.asc") NIL NIL "7BIT" ${len(SIGNATURE)} NIL NIL NIL NIL)`;
    assert.equal(
      await fetchOne(SIGNED, 'BODYSTRUCTURE'),
      fetched(
        SIGNED,
        `BODYSTRUCTURE (${t}${s} "SIGNED" ("PROTOCOL" "application/pgp-signature" "MICALG" "pgp-sha256" "BOUNDARY" "sig") NIL NIL NIL)`,
      ),
    );
    const mime = crlf('Content-Type: text/plain\n\n');
    assert.equal(
      await fetchOne(SIGNED, 'BODY.PEEK[1.MIME] BODY.PEEK[1] BODY.PEEK[2]'),
      fetched(SIGNED, `BODY[1.MIME] ${lit(mime)} BODY[1] ${lit(SIGNED_TEXT)} BODY[2] ${lit(SIGNATURE)}`),
    );
  });

  it('a multipart whose final boundary is missing: the last part runs to the end', async () => {
    const one = '("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1 NIL NIL NIL NIL)';
    const two = `("TEXT" "PLAIN" NIL NIL NIL "7BIT" ${len(UNCLOSED_TWO)} ${lines(UNCLOSED_TWO)} NIL NIL NIL NIL)`;
    assert.equal(
      await fetchOne(UNCLOSED, 'BODYSTRUCTURE BODY.PEEK[2]'),
      fetched(
        UNCLOSED,
        `BODYSTRUCTURE (${one}${two} "MIXED" ("BOUNDARY" "b") NIL NIL NIL) BODY[2] ${lit(UNCLOSED_TWO)}`,
      ),
    );
  });

  it('8bit: the encoding as given, the size in octets, and the octets untouched', async () => {
    assert.equal(
      await fetchOne(EIGHT, 'BODYSTRUCTURE BODY.PEEK[1]'),
      fetched(
        EIGHT,
        `BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "8BIT" ${len(EIGHT_BODY)} 1 NIL NIL NIL NIL) BODY[1] ${lit(EIGHT_BODY)}`,
      ),
    );
  });

  it('a header-only message: an empty body of 0 octets and 0 lines; TEXT is empty, HEADER is the whole message', async () => {
    assert.equal(
      await fetchOne(HEADER_ONLY, 'BODYSTRUCTURE RFC822.SIZE BODY.PEEK[TEXT] BODY.PEEK[HEADER]'),
      fetched(
        HEADER_ONLY,
        `BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) RFC822.SIZE ${len(HEADER_ONLY)} ` +
          `BODY[TEXT] {0}\r\n BODY[HEADER] ${lit(HEADER_ONLY)}`,
      ),
    );
  });

  it('bare LF line ends: parts are still found, sizes are the stored octets', async () => {
    assert.equal(
      await fetchOne(BARE_LF, 'BODYSTRUCTURE BODY.PEEK[1] RFC822.SIZE'),
      fetched(
        BARE_LF,
        `BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" ${len(LF_BODY) - 1} 2 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "z") NIL NIL NIL) ` +
          `BODY[1] ${lit(LF_BODY.slice(0, -1))} RFC822.SIZE ${len(BARE_LF)}`,
      ),
    );
  });
});

describe('IMAP compliance: ENVELOPE (RFC 3501 §7.4.2, RFC 9051 §7.5.2)', () => {
  it('groups, quoted display names, raw encoded words, several From, a source route; empty Reply-To and absent Sender default to From', async () => {
    const from = '(("Doe, John \\"JD\\"" NIL "john" "example.com")(NIL NIL "mary" "example.net"))';
    assert.equal(
      await fetchOne(ENVELOPES, 'ENVELOPE'),
      fetched(
        ENVELOPES,
        'ENVELOPE ("Wed, 2 Dec 2026 08:00:00 +0100" "=?UTF-8?B?SGVsbG8gd8O2cmxk?=" ' +
          `${from} ${from} ${from} ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ` +
          '((NIL NIL "Friends" NIL)(NIL NIL "a" "x.example")("B" NIL "b" "y.example")(NIL NIL NIL NIL)(NIL "@route.example" "c" "z.example")) ' +
          'NIL "<parent@example.com>" "<id@example.com>")',
      ),
    );
  });

  it('every field missing is NIL; Sender and Reply-To with no From are NIL too', async () => {
    assert.equal(
      await fetchOne(NO_FIELDS, 'ENVELOPE'),
      fetched(NO_FIELDS, 'ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)'),
    );
  });

  it('an address without a domain or local part is not NIL there (a NIL host starts a group, RFC 3501 §7.4.2); folded fields are unfolded', async () => {
    const from = '(("Local Only" NIL "localonly" "MISSING_DOMAIN"))';
    assert.equal(
      await fetchOne(NO_HOST, 'ENVELOPE'),
      fetched(
        NO_HOST,
        `ENVELOPE (NIL "folded  subject" ${from} ${from} ${from} ((NIL NIL "nobody" "MISSING_DOMAIN")(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) NIL NIL NIL NIL)`,
      ),
    );
  });

  it('the FETCH macros: ALL, FAST and FULL expand to their items (RFC 9051 §6.4.5)', async () => {
    const r = await c.cmd(`FETCH ${seqOf(PLAIN)} FAST`);
    assert.deepEqual(r.untagged, [
      fetched(PLAIN, `FLAGS () INTERNALDATE "05-Mar-2024 09:11:12 +0000" RFC822.SIZE ${len(PLAIN)}`),
    ]);
    const all = await c.cmd(`FETCH ${seqOf(PLAIN)} ALL`);
    assert.match(
      all.untagged[0],
      /^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+ ENVELOPE \(NIL "plain" /,
    );
    const full = await c.cmd(`FETCH ${seqOf(PLAIN)} FULL`);
    assert.match(
      full.untagged[0],
      / ENVELOPE \(.*\) BODY \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" \d+ 2\)\)$/,
    );
  });

  it('an encapsulated message has its own envelope in BODY[2] terms: HEADER, TEXT, MIME and parts of message/rfc822 (RFC 9051 §6.4.5)', async () => {
    const mime = crlf('Content-Type: message/rfc822\nContent-Disposition: inline\n\n');
    assert.equal(
      await fetchOne(
        NESTED,
        'BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.MIME] BODY.PEEK[2.1] BODY.PEEK[2.2.MIME]',
      ),
      fetched(
        NESTED,
        `BODY[2.HEADER] ${lit(INNER_HEADER)} BODY[2.TEXT] ${lit(INNER_TEXT)} BODY[2.MIME] ${lit(mime)} ` +
          `BODY[2.1] ${lit(INNER_PLAIN)} BODY[2.2.MIME] ${lit(crlf('Content-Type: text/html\n\n'))}`,
      ),
    );
    assert.equal(
      await fetchOne(NESTED, 'BODY.PEEK[2.HEADER.FIELDS (subject message-id)] BODY.PEEK[2]'),
      fetched(
        NESTED,
        `BODY[2.HEADER.FIELDS (subject message-id)] ${lit(crlf('Subject: inner\nMessage-ID: <inner@example.org>\n\n'))} BODY[2] ${lit(INNER)}`,
      ),
    );
  });
});

describe('IMAP compliance: body sections and sizes (RFC 9051 §6.4.5)', () => {
  it('a message/rfc822 part holding a non-multipart message: its part 1 is that message body (RFC 9051 §6.4.5)', async () => {
    // the CRLF before --np-- belongs to the boundary
    const inner = SIMPLE_INNER.slice(0, -2);
    const innerBody = SIMPLE_INNER_BODY.slice(0, -2);
    assert.equal(
      await fetchOne(NESTED_PLAIN, 'BODY.PEEK[2.1] BODY.PEEK[2.HEADER] BODY.PEEK[2]<0.7>'),
      fetched(
        NESTED_PLAIN,
        `BODY[2.1] ${lit(innerBody)} BODY[2.HEADER] ${lit(crlf('Subject: simple inner\nFrom: s@example.org\n\n'))} BODY[2]<0> ${lit('Subject')}`,
      ),
    );
    const structure = await fetchOne(NESTED_PLAIN, 'BODYSTRUCTURE');
    assert.ok(
      structure.includes(
        `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${len(inner)} (NIL "simple inner" ((NIL NIL "s" "example.org")) ` +
          '((NIL NIL "s" "example.org")) ((NIL NIL "s" "example.org")) NIL NIL NIL NIL NIL) ' +
          `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" ${len(innerBody)} 1 NIL NIL NIL NIL) ${lines(inner)} NIL NIL NIL NIL)`,
      ),
      structure,
    );
  });

  it('HEADER.FIELDS names may be quoted strings or literals (RFC 9051 §9 header-fld-name = astring)', async () => {
    const want = lit(crlf('Subject: plain\n\n'));
    const quoted = await fetchOne(PLAIN, 'BODY.PEEK[HEADER.FIELDS ("Subject")]');
    assert.match(quoted, /^\* 1 FETCH \(BODY\[HEADER\.FIELDS \("?Subject"?\)\] /);
    assert.ok(quoted.endsWith(` ${want})`), quoted);
  });

  it('BODY[1.2.MIME] of a nested multipart, BODY[TEXT]<0.10>, and a partial past the end is an empty string', async () => {
    const text = MIXED.slice(MIXED.indexOf('\r\n\r\n') + 4);
    assert.equal(
      await fetchOne(MIXED, 'BODY.PEEK[1.2.MIME] BODY.PEEK[TEXT]<0.10> BODY.PEEK[]<1000000.10> BODY.PEEK[1.1]<4.100>'),
      fetched(
        MIXED,
        `BODY[1.2.MIME] ${lit(MIX_ALT_HTML_MIME)} BODY[TEXT]<0> ${lit(text.slice(0, 10))} BODY[]<1000000> {0}\r\n ` +
          `BODY[1.1]<4> ${lit(MIX_TEXT.slice(4))}`,
      ),
    );
  });

  it('a non-multipart message has one part, 1, its body; BODY[1.MIME] is the message header (RFC 9051 §6.4.5)', async () => {
    const r = await fetchOne(PLAIN, 'BODY.PEEK[1] BODY.PEEK[3]');
    assert.match(
      r,
      new RegExp(
        `^\\* 1 FETCH \\(BODY\\[1\\] \\{${len(PLAIN_BODY)}\\}\\r\\n${PLAIN_BODY} BODY\\[3\\] (NIL|\\{0\\}\\r\\n|"")\\)$`,
      ),
    );
  });

  it('BODY[0] and BODY[1.0] are BAD (section-part is nz-number, RFC 9051 §9)', async () => {
    assert.match((await c.cmd('FETCH 1 BODY[0]')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('FETCH 1 BODY.PEEK[1.0]')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('FETCH 1 BODY[HEADER.FIELDS ()]')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('FETCH 1 BODY[1.TEXT.HEADER]')).status, /^a\d+ BAD /);
    // partial = "<" number "." nz-number ">"
    assert.match((await c.cmd('FETCH 1 BODY.PEEK[]<0.0>')).status, /^a\d+ BAD /);
  });

  it('HEADER.FIELDS matches names case-insensitively, keeps the message order and folding; .NOT leaves the rest', async () => {
    const r = await fetchOne(
      MIXED,
      'BODY.PEEK[HEADER.FIELDS (SUBJECT from X-Absent)] BODY.PEEK[HEADER.FIELDS.NOT (from SUBJECT)]',
    );
    assert.equal(
      r,
      fetched(
        MIXED,
        `BODY[HEADER.FIELDS (SUBJECT from X-Absent)] ${lit(crlf('From: a@example.com\nSubject: mixed\n\n'))} ` +
          `BODY[HEADER.FIELDS.NOT (from SUBJECT)] ${lit(crlf('Content-Type: multipart/mixed; boundary=mix\n\n'))}`,
      ),
    );
    const folded = await fetchOne(MIXED, 'BODY.PEEK[1.HEADER.FIELDS (content-type)]');
    assert.match(folded, /^\* 3 FETCH \(BODY\[1\.HEADER\.FIELDS \(content-type\)\] /i);
    const disposition = await fetchOne(MIXED, 'BODY.PEEK[2.MIME]');
    assert.ok(disposition.includes('Content-Disposition: attachment;\r\n filename="doc.pdf"; size=9\r\n'), disposition);
  });

  it('RFC822.SIZE equals the length of BODY[] for every message; RFC822.HEADER + RFC822.TEXT is RFC822', async () => {
    const r = await c.cmd('FETCH 1:* (RFC822.SIZE BODY.PEEK[])');
    assert.equal(r.untagged.length, order.length);
    r.untagged.forEach((line, i) => {
      assert.equal(line, `* ${i + 1} FETCH (RFC822.SIZE ${len(order[i])} BODY[] ${lit(order[i])})`);
    });
    const parts = await fetchOne(ALT, 'RFC822.HEADER RFC822.TEXT');
    const split = ALT.indexOf('\r\n\r\n') + 4;
    assert.equal(parts, fetched(ALT, `RFC822.HEADER ${lit(ALT.slice(0, split))} RFC822.TEXT ${lit(ALT.slice(split))}`));
  });

  it('INTERNALDATE is date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 9051 §9 date-time)', async () => {
    assert.equal(await fetchOne(PLAIN, 'INTERNALDATE'), fetched(PLAIN, 'INTERNALDATE "05-Mar-2024 09:11:12 +0000"'));
  });
});
