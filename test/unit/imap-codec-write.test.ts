/**
 * Response writer: status responses with every response code, untagged data, the string encoder (atom /
 * quoted / literal), and streamable FETCH responses; cross-checked with an independent parser (imapflow's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parser } from 'imapflow/lib/handler/imap-handler.js';
import { astr, mailboxValue, nstr, SegmentWriter, str, type Value } from '../../lib/imap/codec/encode.ts';
import type { ResponseCode } from '../../lib/imap/codec/responseCodes.ts';
import {
  capability,
  enabled,
  esearchResponse,
  exists,
  expunge,
  flags,
  idResponse,
  listResponse,
  lsubResponse,
  namespaceResponse,
  quotaResponse,
  quotaRootResponse,
  recent,
  searchResponse,
  statusResponse,
  vanished,
} from '../../lib/imap/codec/writeData.ts';
import { fetchResponse, fetchResponseBuffer, formatSection } from '../../lib/imap/codec/writeFetch.ts';
import { continuation, continuationData, tagged, untagged } from '../../lib/imap/codec/writeStatus.ts';

const RAW = { utf8: false };
const UTF8 = { utf8: true };
const text = (b: Buffer) => b.toString('utf8');

function wire(v: Value, opts = RAW): string {
  return Buffer.concat(new SegmentWriter().value(v, opts).finish() as Buffer[]).toString('utf8');
}

const CODES: [ResponseCode, string][] = [
  [{ code: 'ALERT' }, 'ALERT'],
  [{ code: 'BADCHARSET', charsets: ['UTF-8', 'US-ASCII'] }, 'BADCHARSET (UTF-8 US-ASCII)'],
  [{ code: 'BADCHARSET' }, 'BADCHARSET'],
  [{ code: 'CAPABILITY', capabilities: ['IMAP4rev2', 'IMAP4rev1', 'IDLE'] }, 'CAPABILITY IMAP4rev2 IMAP4rev1 IDLE'],
  [{ code: 'PARSE' }, 'PARSE'],
  [{ code: 'PERMANENTFLAGS', flags: ['\\Deleted', '\\Seen', '\\*'] }, 'PERMANENTFLAGS (\\Deleted \\Seen \\*)'],
  [{ code: 'READ-ONLY' }, 'READ-ONLY'],
  [{ code: 'READ-WRITE' }, 'READ-WRITE'],
  [{ code: 'TRYCREATE' }, 'TRYCREATE'],
  [{ code: 'UIDNEXT', value: 4392 }, 'UIDNEXT 4392'],
  [{ code: 'UIDVALIDITY', value: 3857529045 }, 'UIDVALIDITY 3857529045'],
  [{ code: 'UNSEEN', value: 12 }, 'UNSEEN 12'],
  [{ code: 'APPENDUID', uidValidity: 38505, uids: [3955] }, 'APPENDUID 38505 3955'],
  [{ code: 'APPENDUID', uidValidity: 38505, uids: [3955, 3956, 3957] }, 'APPENDUID 38505 3955:3957'],
  [
    { code: 'COPYUID', uidValidity: 38505, source: [304, 319, 320], destination: [3956, 3957, 3958] },
    'COPYUID 38505 304,319:320 3956:3958',
  ],
  [{ code: 'HIGHESTMODSEQ', value: 715194045007n }, 'HIGHESTMODSEQ 715194045007'],
  [{ code: 'NOMODSEQ' }, 'NOMODSEQ'],
  [{ code: 'MODIFIED', set: [7, 9, 10, 11] }, 'MODIFIED 7,9:11'],
  [{ code: 'CLOSED' }, 'CLOSED'],
  [{ code: 'MAILBOXID', id: 'F2212ea87-6097-4256-9d51-71338625' }, 'MAILBOXID (F2212ea87-6097-4256-9d51-71338625)'],
  [{ code: 'ALREADYEXISTS' }, 'ALREADYEXISTS'],
  [{ code: 'NONEXISTENT' }, 'NONEXISTENT'],
  [{ code: 'LIMIT' }, 'LIMIT'],
  [{ code: 'OVERQUOTA' }, 'OVERQUOTA'],
  [{ code: 'INUSE' }, 'INUSE'],
  [{ code: 'AUTHENTICATIONFAILED' }, 'AUTHENTICATIONFAILED'],
  [{ code: 'AUTHORIZATIONFAILED' }, 'AUTHORIZATIONFAILED'],
  [{ code: 'EXPIRED' }, 'EXPIRED'],
  [{ code: 'PRIVACYREQUIRED' }, 'PRIVACYREQUIRED'],
  [{ code: 'CONTACTADMIN' }, 'CONTACTADMIN'],
  [{ code: 'NOPERM' }, 'NOPERM'],
  [{ code: 'EXPUNGEISSUED' }, 'EXPUNGEISSUED'],
  [{ code: 'CORRUPTION' }, 'CORRUPTION'],
  [{ code: 'SERVERBUG' }, 'SERVERBUG'],
  [{ code: 'CLIENTBUG' }, 'CLIENTBUG'],
  [{ code: 'CANNOT' }, 'CANNOT'],
  [{ code: 'UNAVAILABLE' }, 'UNAVAILABLE'],
  [{ code: 'TOOBIG' }, 'TOOBIG'],
  [{ code: 'UNKNOWN-CTE' }, 'UNKNOWN-CTE'],
  [{ code: 'USEATTR' }, 'USEATTR'],
  [{ code: 'NOTSAVED' }, 'NOTSAVED'],
  [{ code: 'UIDNOTSTICKY' }, 'UIDNOTSTICKY'],
  [{ code: 'HASCHILDREN' }, 'HASCHILDREN'],
];

describe('IMAP writer: status responses (RFC 9051 §7.1)', () => {
  for (const [code, expected] of CODES) {
    it(`[${expected}]`, () =>
      assert.equal(text(tagged('a1', 'NO', 'text here', code)), `a1 NO [${expected}] text here\r\n`));
  }

  it('tagged and untagged lines, without a code', () => {
    assert.equal(text(tagged('a1', 'OK', 'LOGIN completed')), 'a1 OK LOGIN completed\r\n');
    assert.equal(text(untagged('BYE', 'Autologout')), '* BYE Autologout\r\n');
    assert.equal(
      text(untagged('OK', 'Predicted next UID', { code: 'UIDNEXT', value: 9 })),
      '* OK [UIDNEXT 9] Predicted next UID\r\n',
    );
  });

  it('CR and LF in the text cannot start another response', () => {
    assert.equal(text(tagged('a1', 'BAD', 'bad\r\na2 OK injected')), 'a1 BAD bad a2 OK injected\r\n');
    assert.equal(text(tagged('a1', 'OK', '')), 'a1 OK done\r\n');
  });

  it('continuations: text, and base64 SASL challenges (empty is "+ ")', () => {
    assert.equal(text(continuation('Ready')), '+ Ready\r\n');
    assert.equal(text(continuationData(Buffer.from('hi'))), '+ aGk=\r\n');
    assert.equal(text(continuationData(Buffer.alloc(0))), '+ \r\n');
  });
});

describe('IMAP writer: strings (RFC 9051 §4.3)', () => {
  const cases: [string, Value, string, string?][] = [
    ['astring that is an atom', astr('INBOX'), 'INBOX'],
    ['astring with "]" stays an atom (ASTRING-CHAR)', astr('[Gmail]'), '[Gmail]'],
    ['astring with a space is quoted', astr('My Box'), '"My Box"'],
    ['astring "NIL" is quoted, not NIL', astr('NIL'), '"NIL"'],
    ['empty astring', astr(''), '""'],
    ['astring with wildcards', astr('a*b%'), '"a*b%"'],
    ['string is never an atom', str('abc'), '"abc"'],
    ['quotes and backslashes are escaped', str('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"'],
    ['CR forces a literal', str('a\rb'), '{3}\r\na\rb'],
    ['LF forces a literal', str('a\nb'), '{3}\r\na\nb'],
    ['NUL is dropped (no string may carry it)', str('a\0b'), '"ab"'],
    ['8-bit is a literal outside UTF-8 mode', str('Grüße'), '{7}\r\nGrüße', '"Grüße"'],
    ['invalid UTF-8 is a literal even in UTF-8 mode', str(Buffer.from([0x61, 0xff])), '{2}\r\na\xff'],
    ['long strings are literals', str('x'.repeat(2000)), `{2000}\r\n${'x'.repeat(2000)}`],
    ['nstring null is NIL', nstr(null), 'NIL'],
    ['tab is a TEXT-CHAR and may be quoted', str('a\tb'), '"a\tb"'],
  ];
  for (const [name, value, expected, inUtf8] of cases) {
    it(name, () => {
      const got = Buffer.concat(new SegmentWriter().value(value, RAW).finish() as Buffer[]);
      assert.equal(got.toString(expected.includes('\xff') ? 'latin1' : 'utf8'), expected);
      if (inUtf8 !== undefined) assert.equal(wire(value, UTF8), inUtf8);
    });
  }

  it('mailbox names are modified UTF-7 unless in UTF-8 mode (RFC 3501 §5.1.3, RFC 6855 §3)', () => {
    assert.equal(wire(mailboxValue('~peter/mail/台北/日本語', RAW)), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    assert.equal(wire(mailboxValue('Tom & Jerry', RAW)), '"Tom &- Jerry"');
    assert.equal(wire(mailboxValue('Entwürfe', UTF8), UTF8), '"Entwürfe"');
  });
});

describe('IMAP writer: untagged data', () => {
  it('EXISTS, RECENT, EXPUNGE', () => {
    assert.equal(text(exists(23)), '* 23 EXISTS\r\n');
    assert.equal(text(recent(0)), '* 0 RECENT\r\n');
    assert.equal(text(expunge(3)), '* 3 EXPUNGE\r\n');
  });

  it('VANISHED and VANISHED (EARLIER) (RFC 7162 §3.2.10)', () => {
    assert.equal(text(vanished([405, 407, 408, 409], false)), '* VANISHED 405,407:409\r\n');
    assert.equal(text(vanished([[41, 43]], true)), '* VANISHED (EARLIER) 41:43\r\n');
    assert.equal(vanished([], true).length, 0);
  });

  it('FLAGS, CAPABILITY, ENABLED', () => {
    assert.equal(text(flags(['\\Answered', '\\Seen', '$Junk'], RAW)), '* FLAGS (\\Answered \\Seen $Junk)\r\n');
    assert.equal(text(capability(['IMAP4rev2', 'LITERAL-'])), '* CAPABILITY IMAP4rev2 LITERAL-\r\n');
    assert.equal(text(enabled([])), '* ENABLED\r\n');
    assert.equal(text(enabled(['CONDSTORE'])), '* ENABLED CONDSTORE\r\n');
  });

  it('LIST with attributes, delimiter, and RFC 5258 CHILDINFO / RFC 9051 OLDNAME extended data', () => {
    assert.equal(
      text(listResponse({ attributes: ['\\HasNoChildren', '\\Sent'], delimiter: '/', name: 'Sent' }, RAW)),
      '* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n',
    );
    assert.equal(
      text(listResponse({ attributes: [], delimiter: '/', name: 'Foo', childInfo: ['SUBSCRIBED'] }, RAW)),
      '* LIST () "/" Foo ("CHILDINFO" ("SUBSCRIBED"))\r\n',
    );
    assert.equal(
      text(listResponse({ attributes: ['\\NonExistent'], delimiter: null, name: 'New', oldName: 'Old' }, RAW)),
      '* LIST (\\NonExistent) NIL New ("OLDNAME" (Old))\r\n',
    );
    assert.equal(
      text(lsubResponse({ attributes: [], delimiter: '/', name: '台北' }, RAW)),
      '* LSUB () "/" &U,BTFw-\r\n',
    );
  });

  it('STATUS (RFC 9051 §7.2.4, RFC 7162, RFC 8474, RFC 7889, RFC 8438)', () => {
    assert.equal(
      text(
        statusResponse(
          'blurdybloop',
          [
            { item: 'MESSAGES', value: 231 },
            { item: 'UIDNEXT', value: 44292 },
            { item: 'HIGHESTMODSEQ', value: 7011231777n },
            { item: 'MAILBOXID', value: 'F1' },
            { item: 'SIZE', value: 1024 },
          ],
          RAW,
        ),
      ),
      '* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777 MAILBOXID (F1) SIZE 1024)\r\n',
    );
  });

  it('SEARCH, with MODSEQ (RFC 7162 §3.1.5), and empty', () => {
    assert.equal(text(searchResponse([2, 3, 6])), '* SEARCH 2 3 6\r\n');
    assert.equal(text(searchResponse([2, 10], 917162500n)), '* SEARCH 2 10 (MODSEQ 917162500)\r\n');
    assert.equal(text(searchResponse([])), '* SEARCH\r\n');
  });

  it('ESEARCH (RFC 4731 §3.1)', () => {
    assert.equal(
      text(esearchResponse({ tag: 'A282', uid: true, min: 2, max: 47, count: 5, all: [2, 10, 11, 12, 47] }, RAW)),
      '* ESEARCH (TAG "A282") UID MIN 2 MAX 47 COUNT 5 ALL 2,10:12,47\r\n',
    );
    assert.equal(
      text(esearchResponse({ tag: 'a', uid: false, count: 0, all: [] }, RAW)),
      '* ESEARCH (TAG "a") COUNT 0\r\n',
    );
  });

  it('ID (RFC 2971 §3.2)', () => {
    assert.equal(
      text(
        idResponse(
          [
            ['name', 'Postern'],
            ['vendor', null],
          ],
          RAW,
        ),
      ),
      '* ID ("name" "Postern" "vendor" NIL)\r\n',
    );
    assert.equal(text(idResponse(null, RAW)), '* ID NIL\r\n');
  });

  it('NAMESPACE (RFC 2342 §5)', () => {
    assert.equal(
      text(namespaceResponse([{ prefix: '', delimiter: '/' }], null, null, RAW)),
      '* NAMESPACE (("" "/")) NIL NIL\r\n',
    );
  });

  it('QUOTA and QUOTAROOT (RFC 9208 §7)', () => {
    assert.equal(
      text(quotaResponse('', [{ name: 'storage', usage: 10, limit: 512 }], RAW)),
      '* QUOTA "" (STORAGE 10 512)\r\n',
    );
    assert.equal(text(quotaRootResponse('INBOX', [''], RAW)), '* QUOTAROOT INBOX ""\r\n');
  });

  it('an independent parser reads LIST, STATUS and ESEARCH back', async () => {
    const list = await parser(
      listResponse({ attributes: ['\\Noselect'], delimiter: '/', name: 'a "b"' }, RAW).subarray(0, -2),
    );
    assert.deepEqual(
      list.attributes?.map((a) => (Array.isArray(a) ? a.map((x) => !Array.isArray(x) && x?.value) : a?.value)),
      [['\\Noselect'], '/', 'a "b"'],
    );
    const status = await parser(statusResponse('x y', [{ item: 'UNSEEN', value: 3 }], RAW).subarray(0, -2));
    assert.equal(status.command, 'STATUS');
  });
});

describe('IMAP writer: FETCH (RFC 9051 §7.5.2)', () => {
  const date = new Date('1996-07-17T09:44:25Z');

  it('simple items', () => {
    assert.equal(
      text(
        fetchResponseBuffer(
          12,
          [
            { item: 'UID', uid: 4827313 },
            { item: 'FLAGS', flags: ['\\Seen'] },
            { item: 'INTERNALDATE', date, offsetMinutes: -420 },
            { item: 'RFC822.SIZE', size: 44827 },
            { item: 'MODSEQ', modSeq: 12121231000n },
            { item: 'EMAILID', id: 'M6d99ac3275bb4e' },
            { item: 'THREADID', id: null },
            { item: 'SAVEDATE', date },
            { item: 'BINARY.SIZE', part: [1], size: 12 },
          ],
          RAW,
        ),
      ),
      '* 12 FETCH (UID 4827313 FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 44827' +
        ' MODSEQ (12121231000) EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE "17-Jul-1996 09:44:25 +0000"' +
        ' BINARY.SIZE[1] 12)\r\n',
    );
  });

  it('body sections with origin, literal data and NIL', () => {
    const section = { part: [1, 2], text: 'HEADER.FIELDS' as const, fields: ['From', 'To'] };
    assert.equal(
      text(
        fetchResponseBuffer(
          1,
          [
            { item: 'BODY[]', section, data: Buffer.from('From: a\r\n\r\n') },
            { item: 'BODY[]', section: { part: [] }, origin: 100, data: Buffer.from('xyz') },
            { item: 'BODY[]', section: { part: [3], text: 'MIME' }, data: null },
            { item: 'RFC822.HEADER', data: Buffer.from('A: b\r\n\r\n') },
          ],
          RAW,
        ),
      ),
      '* 1 FETCH (BODY[1.2.HEADER.FIELDS (From To)] {11}\r\nFrom: a\r\n\r\n BODY[]<100> {3}\r\nxyz BODY[3.MIME] NIL' +
        ' RFC822.HEADER {8}\r\nA: b\r\n\r\n)\r\n',
    );
  });

  it('BINARY content is a literal8 (RFC 3516 §4.2)', () => {
    assert.equal(
      text(fetchResponseBuffer(2, [{ item: 'BINARY', part: [2], data: Buffer.from([0, 1]) }], RAW)),
      '* 2 FETCH (BINARY[2] ~{2}\r\n\x00\x01)\r\n',
    );
  });

  it('a streamed BODY[] is a marker between buffers, the literal length announced before it', () => {
    type Source = { key: string };
    const segments = fetchResponse<Source>(
      5,
      [
        { item: 'UID', uid: 9 },
        { item: 'BODY[]', section: { part: [] }, data: { length: 40_000_000, source: { key: 'blob-9' } } },
        { item: 'FLAGS', flags: [] },
      ],
      RAW,
    );
    assert.equal(segments.length, 3);
    const [head, marker, tail] = segments;
    assert.ok(Buffer.isBuffer(head) && Buffer.isBuffer(tail));
    assert.equal(head.toString(), '* 5 FETCH (UID 9 BODY[] {40000000}\r\n');
    assert.deepEqual(marker, { kind: 'literal-stream', length: 40_000_000, binary: false, source: { key: 'blob-9' } });
    assert.equal(tail.toString(), ' FLAGS ())\r\n');
  });

  it('section names echo the request (RFC 9051 §7.5.2 BODY[<section>]<<origin>>)', () => {
    assert.equal(formatSection({ part: [] }), '');
    assert.equal(formatSection({ part: [4, 1], text: 'TEXT' }), '4.1.TEXT');
    assert.equal(formatSection({ part: [], text: 'HEADER.FIELDS.NOT', fields: ['X-A'] }), 'HEADER.FIELDS.NOT (X-A)');
  });

  it('an independent parser reads a FETCH with literals back', async () => {
    const line = fetchResponseBuffer(
      3,
      [
        { item: 'UID', uid: 77 },
        { item: 'BODY[]', section: { part: [], text: 'TEXT' }, origin: 0, data: Buffer.from('hello\r\n') },
      ],
      RAW,
    );
    const parsed = await parser(line.subarray(0, -2));
    const items = parsed.attributes?.[1];
    assert.ok(Array.isArray(items));
    const values = items.map((x) => (!Array.isArray(x) && x ? x.value : undefined));
    assert.equal(values[1], '77');
    assert.equal(String(values[3]), 'hello\r\n');
  });
});
