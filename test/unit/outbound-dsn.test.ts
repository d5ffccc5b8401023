/**
 * The DSN builder (lib/outbound/dsn.ts), read back by parsers nobody here wrote: Python's `email` package and
 * mailparser. Section numbers are RFC 3464 unless named otherwise.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StructuredHeader } from 'mailparser';
import { buildDsn, type DsnInput, type DsnRecipientReport } from '../../lib/outbound/dsn.ts';
import { decodeUtf8AddrXtext, enhancedCode, statusFor, utf8AddrXtext } from '../../lib/outbound/dsnFields.ts';
import { parseWithMailparser, parseWithPython } from '../support/dsnCheck.ts';

const ORIGINAL_HEADERS = 'From: Alice <alice@example.org>\r\nTo: bob@remote.test\r\nSubject: Lunch?\r\n\r\n';
const ARRIVAL = Date.UTC(2026, 11, 2, 9, 0, 0);
const NOW = Date.UTC(2026, 11, 2, 13, 5, 0);

const failed: DsnRecipientReport = {
  address: 'bob@remote.test',
  action: 'failed',
  orcpt: 'rfc822;Bob@Remote.test',
  reply: '550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown in virtual mailbox table',
  remoteMta: 'mx.remote.test',
  lastAttemptAt: ARRIVAL + 60_000,
};

function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    hostname: 'mx.example.org',
    to: 'alice@example.org',
    envId: 'QQ314159',
    arrivalDate: ARRIVAL,
    recipients: [failed],
    returned: { kind: 'headers', bytes: Buffer.from(ORIGINAL_HEADERS), truncated: false, limit: 65536 },
    id: '01JDSNTEST',
    date: NOW,
    ...over,
  };
}

describe('DSN builder, read by Python email', () => {
  it('is a multipart/report; report-type=delivery-status of text, delivery-status, headers (RFC 6522 §3, RFC 3464 §2)', () => {
    const view = parseWithPython(buildDsn(input()));
    assert.equal(view.headers['Content-Type'].split(';')[0], 'multipart/report');
    assert.equal(view.reportType, 'delivery-status');
    assert.deepEqual(view.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    assert.deepEqual(view.defects, []);
  });

  it('comes from MAILER-DAEMON, goes to the envelope sender, is Auto-Submitted: auto-replied (RFC 3834 §5)', () => {
    const view = parseWithPython(buildDsn(input()));
    assert.equal(view.headers.From, 'Mail Delivery System <MAILER-DAEMON@mx.example.org>');
    assert.equal(view.headers.To, 'alice@example.org');
    assert.equal(view.headers['Auto-Submitted'], 'auto-replied');
    assert.equal(view.headers['Message-ID'], '<01JDSNTEST@mx.example.org>');
    assert.equal(Date.parse(view.headers.Date), NOW);
    assert.match(view.headers.Subject, /Undelivered/);
  });

  it('per-message fields: Reporting-MTA, Original-Envelope-Id (ENVID, RFC 3461 §4.4), Arrival-Date (§2.2)', () => {
    const [perMessage] = parseWithPython(buildDsn(input())).status;
    assert.equal(perMessage['Reporting-MTA'], 'dns; mx.example.org');
    assert.equal(perMessage['Original-Envelope-Id'], 'QQ314159');
    assert.equal(Date.parse(perMessage['Arrival-Date']), ARRIVAL);
    const [withoutEnvId] = parseWithPython(buildDsn(input({ envId: undefined }))).status;
    assert.equal(withoutEnvId['Original-Envelope-Id'], undefined);
  });

  it('per-recipient fields of a failure (§2.3): ORCPT, Final-Recipient, Action, Status from the reply, Diagnostic-Code', () => {
    const [, rcpt] = parseWithPython(buildDsn(input())).status;
    assert.equal(rcpt['Original-Recipient'], 'rfc822;Bob@Remote.test');
    assert.equal(rcpt['Final-Recipient'], 'rfc822;bob@remote.test');
    assert.equal(rcpt.Action, 'failed');
    assert.equal(rcpt.Status, '5.1.1');
    assert.equal(rcpt['Remote-MTA'], 'dns; mx.remote.test');
    assert.equal(rcpt['Diagnostic-Code'], `smtp; ${failed.reply}`);
    assert.equal(Date.parse(rcpt['Last-Attempt-Date']), ARRIVAL + 60_000);
    assert.equal(rcpt['Will-Retry-Until'], undefined, 'only a delayed recipient has Will-Retry-Until (§2.3.7)');
  });

  it('one report for several recipients, one block each; Will-Retry-Until on the delayed one (§2.3.7)', () => {
    const delayed: DsnRecipientReport = {
      address: 'carol@slow.test',
      action: 'delayed',
      reply: '451 4.4.1 No answer from host',
      willRetryUntil: ARRIVAL + 5 * 86_400_000,
    };
    const relayed: DsnRecipientReport = { address: 'dave@ses.test', action: 'relayed', reply: '250 Ok 0100abc' };
    const view = parseWithPython(buildDsn(input({ recipients: [failed, delayed, relayed] })));
    assert.equal(view.status.length, 4);
    assert.deepEqual(
      view.status.slice(1).map((b) => [b['Final-Recipient'], b.Action, b.Status]),
      [
        ['rfc822;bob@remote.test', 'failed', '5.1.1'],
        ['rfc822;carol@slow.test', 'delayed', '4.4.1'],
        ['rfc822;dave@ses.test', 'relayed', '2.0.0'],
      ],
    );
    assert.equal(Date.parse(view.status[2]['Will-Retry-Until']), ARRIVAL + 5 * 86_400_000);
    assert.match(view.human, /carol@slow\.test/);
    assert.match(view.human, /not been delivered yet/);
  });

  it('an internationalised address is a utf-8 address type in the xtext form, 7bit (RFC 6533 §3)', () => {
    const dsn = buildDsn(
      input({ recipients: [{ ...failed, address: 'jörg@bücher.test', orcpt: 'utf-8;J\\x{F6}rg@b\\x{FC}cher.test' }] }),
    );
    const view = parseWithPython(dsn);
    assert.equal(view.status[1]['Final-Recipient'], 'utf-8;j\\x{F6}rg@b\\x{FC}cher.test');
    assert.equal(view.status[1]['Original-Recipient'], 'utf-8;J\\x{F6}rg@b\\x{FC}cher.test');
    assert.equal(decodeUtf8AddrXtext('j\\x{F6}rg@b\\x{FC}cher.test'), 'jörg@bücher.test');
    const statusPart = dsn.toString('latin1').split('message/delivery-status')[1].split('--=_postern_')[0];
    assert.doesNotMatch(statusPart, /[^\x00-\x7f]/, 'message/delivery-status stays 7bit (§2.1)');
    assert.match(view.human, /jörg@bücher\.test/, 'the human part carries it as UTF-8');
  });

  it('text from the remote server or the client cannot add fields (CR LF in a reply or ORCPT)', () => {
    const evil: DsnRecipientReport = {
      ...failed,
      reply: '550 5.7.1 no\r\nBcc: victim@example.net\r\n\r\nInjected',
      orcpt: 'rfc822;x@y\r\nBcc: victim@example.net',
    };
    const dsn = buildDsn(input({ recipients: [evil], envId: 'id\r\nBcc: victim@example.net' }));
    const view = parseWithPython(dsn);
    assert.equal(view.headers.Bcc, undefined);
    assert.equal(view.status.length, 2, 'no extra block from an injected empty line');
    assert.equal(view.status[1].Bcc, undefined);
    assert.equal(view.status[1]['Original-Recipient'], undefined, 'an ORCPT with control characters is dropped');
    assert.match(view.status[1]['Diagnostic-Code'], /^smtp; 550 5\.7\.1 no Bcc: victim/);
    assert.doesNotMatch(dsn.toString('latin1'), /^Bcc:/m);
  });

  it('RET=FULL returns message/rfc822 with the original inside (RFC 3461 §4.3)', () => {
    const message = Buffer.from(`${ORIGINAL_HEADERS}Shall we?\r\n`);
    const view = parseWithPython(
      buildDsn(input({ returned: { kind: 'message', bytes: message, truncated: false, limit: 65536 } })),
    );
    assert.deepEqual(view.parts, ['text/plain', 'message/delivery-status', 'message/rfc822']);
    assert.equal(view.returnedSubject, 'Lunch?');
    assert.match(view.returned ?? '', /Shall we\?/);
    assert.match(view.human, /Your message is attached\./);
  });

  it('a cut message says so in the text', () => {
    const view = parseWithPython(
      buildDsn(
        input({ returned: { kind: 'message', bytes: Buffer.from(ORIGINAL_HEADERS), truncated: true, limit: 65536 } }),
      ),
    );
    assert.match(view.human, /cut after the first 64 KiB/);
  });

  it('8-bit returned headers (RFC 6532) travel base64 in text/rfc822-headers and decode to UTF-8', () => {
    const headers = Buffer.from('From: jörg@bücher.test\r\nSubject: Grüße\r\n\r\n');
    const view = parseWithPython(
      buildDsn(input({ returned: { kind: 'headers', bytes: headers, truncated: false, limit: 65536 } })),
    );
    assert.equal(view.returned, headers.toString('utf8'));
  });

  it('an 8-bit returned message is declared 8bit, never encoded (RFC 2046 §5.2.1), and reads back whole', () => {
    const message = Buffer.from(`${ORIGINAL_HEADERS}Grüße aus Köln\r\n`);
    const dsn = buildDsn(input({ returned: { kind: 'message', bytes: message, truncated: false, limit: 65536 } }));
    assert.match(dsn.toString('latin1'), /Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n/);
    const view = parseWithPython(dsn);
    assert.equal(
      Buffer.from(view.returned ?? '', 'latin1')
        .toString('utf8')
        .includes('Grüße aus Köln'),
      true,
    );
  });

  it('a report to an internationalised sender (SMTPUTF8) names it as UTF-8 in To (RFC 6532)', () => {
    const view = parseWithPython(buildDsn(input({ to: 'jörg@bücher.test' })));
    assert.equal(view.headers.To, 'jörg@bücher.test');
  });

  it('mailparser reads the same report: subject, text, the delivery-status fields and the headers part', async () => {
    const parsed = await parseWithMailparser(buildDsn(input()));
    assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
    assert.equal((parsed.headers.get('content-type') as StructuredHeader).params['report-type'], 'delivery-status');
    // mailparser shows message/delivery-status inline, after the notification text.
    const text = parsed.text ?? '';
    assert.match(text, /<bob@remote\.test>: 550 5\.1\.1 .*User unknown/);
    assert.match(text, /^Reporting-MTA: dns; mx\.example\.org$/m);
    assert.match(text, /^Final-Recipient: rfc822;bob@remote\.test\nAction: failed\nStatus: 5\.1\.1$/m);
    const headers = parsed.attachments.find((a) => a.contentType === 'text/rfc822-headers');
    assert.equal(headers?.content.toString(), ORIGINAL_HEADERS);
  });
});

describe('DSN fields', () => {
  it('Status takes the reply’s enhanced code when its class fits the action (RFC 3463 §2), else x.0.0', () => {
    assert.equal(enhancedCode('550 5.1.1 unknown'), '5.1.1');
    assert.equal(enhancedCode('550-5.7.26 unauthenticated'), '5.7.26');
    assert.equal(enhancedCode('550 no enhanced code'), undefined);
    assert.equal(statusFor('failed', '550 no code'), '5.0.0');
    assert.equal(statusFor('delayed', '421 busy'), '4.0.0');
    assert.equal(statusFor('delayed', undefined), '4.0.0');
    assert.equal(statusFor('relayed', '250 2.6.0 queued'), '2.6.0');
    assert.equal(statusFor('delivered', '250 ok'), '2.0.0');
  });

  it('a failure after transient replies (the queue gave up) is 5.4.7, delivery time expired (RFC 3463 §3.5)', () => {
    assert.equal(statusFor('failed', '451 4.4.1 No answer from host'), '5.4.7');
    assert.equal(statusFor('failed', '421 try later'), '5.4.7');
  });

  it('utf-8-addr-xtext escapes SP, "\\", "+", "=" and non-ASCII as \\x{HEX} (RFC 6533 §3)', () => {
    assert.equal(utf8AddrXtext('a+b=c\\d é@x'), 'a\\x{2B}b\\x{3D}c\\x{5C}d\\x{20}\\x{E9}@x');
    assert.equal(decodeUtf8AddrXtext(utf8AddrXtext('δοκιμή+1@παράδειγμα.δοκιμή')), 'δοκιμή+1@παράδειγμα.δοκιμή');
  });
});
