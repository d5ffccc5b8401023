/**
 * SES bounce and complaint events (SNS and EventBridge shapes, as SES documents them) → suppression entries in
 * SES's account-level list (through the real SDK against the SESv2 stand-in) and an RFC 3464 DSN to the
 * sender, read back with Python's email package.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_DELAY_WARNING_MS } from '../../lib/outbound/dsnPolicy.ts';
import { type FeedbackDeps, handleSesFeedback, parseSesFeedback } from '../../lib/outbound/sesFeedback.ts';
import { SesSuppressionList } from '../../lib/storage/aws/sesSuppressions.ts';
import { makeSesClient } from '../../lib/storage/aws/sesTransport.ts';
import { parseWithPython, recordingSender } from '../support/dsnCheck.ts';
import { type SesStandIn, startSesStandIn } from '../support/sesStandIn.ts';

const SENT = '2026-12-02T10:00:00.000Z';

function mail(source = 'alice@example.org') {
  return {
    timestamp: SENT,
    source,
    messageId: '0100018f-abcdef',
    destination: ['bob@remote.test', 'carol@remote.test'],
    headersTruncated: false,
    headers: [
      { name: 'From', value: 'Alice <alice@example.org>' },
      { name: 'Subject', value: 'Quarterly numbers' },
      { name: 'Message-ID', value: '<q3@example.org>' },
    ],
  };
}

function bounceRecord(bounceType = 'Permanent', source?: string) {
  return {
    eventType: 'Bounce',
    mail: mail(source),
    bounce: {
      bounceType,
      bounceSubType: 'General',
      timestamp: '2026-12-02T10:00:05.000Z',
      feedbackId: '0100018f-feedback',
      reportingMTA: 'dns; a8-70.smtp-out.amazonses.com',
      bouncedRecipients: [
        {
          emailAddress: 'Bob@remote.test',
          action: 'failed',
          status: '5.1.1',
          diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        },
      ],
    },
  };
}

const asSns = (record: object) => ({ Type: 'Notification', MessageId: 'sns-1', Message: JSON.stringify(record) });
const asEventBridge = (record: object) => ({
  version: '0',
  source: 'aws.ses',
  'detail-type': 'Email Bounced',
  detail: record,
});

let ses: SesStandIn;
before(async () => {
  ses = await startSesStandIn();
});
after(() => ses.close());

function deps(sender = recordingSender()): FeedbackDeps & { sender: ReturnType<typeof recordingSender> } {
  let n = 0;
  return {
    sender,
    suppressions: new SesSuppressionList(makeSesClient({ ses: ses.endpoint })),
    report: {
      hostname: 'mx.example.org',
      sender,
      policy: { delayWarningMs: DEFAULT_DELAY_WARNING_MS, lifetimeMs: 5 * 86_400_000 },
      newId: () => `01JSES${n++}`,
    },
  };
}

describe('SES feedback events', () => {
  it('reads a bounce from SNS and from EventBridge alike; other events and junk are ignored', () => {
    const fromSns = parseSesFeedback(asSns(bounceRecord()));
    const fromEventBridge = parseSesFeedback(asEventBridge(bounceRecord()));
    assert.deepEqual(fromSns, fromEventBridge);
    assert.equal(fromSns?.kind, 'bounce');
    assert.equal(fromSns?.suppress, true);
    assert.equal(fromSns?.sentAt, Date.parse(SENT));
    assert.deepEqual(fromSns?.recipients, [
      { address: 'Bob@remote.test', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
    ]);
    assert.equal(parseSesFeedback(asSns({ eventType: 'Delivery', mail: mail(), delivery: {} })), undefined);
    assert.equal(parseSesFeedback({ Type: 'Notification', Message: '{not json' }), undefined);
    assert.equal(parseSesFeedback(asSns({ eventType: 'Bounce', mail: { source: 'x' }, bounce: {} })), undefined);
    assert.equal(parseSesFeedback('Bounce'), undefined);
  });

  it('a permanent bounce suppresses the address and sends the sender a failed DSN (RFC 3464)', async () => {
    const d = deps();
    const result = await handleSesFeedback(parseSesFeedback(asSns(bounceRecord()))!, d);
    assert.equal(result.reported, true);
    assert.equal(ses.suppressed.get('bob@remote.test'), 'BOUNCE');
    assert.equal(d.sender.sent.size, 1);
    const [{ recipient, text }] = d.sender.sent.values();
    assert.equal(recipient, 'alice@example.org');
    const view = parseWithPython(text);
    assert.equal(view.reportType, 'delivery-status');
    assert.deepEqual(
      [view.status[1]['Final-Recipient'], view.status[1].Action, view.status[1].Status],
      ['rfc822;Bob@remote.test', 'failed', '5.1.1'],
    );
    assert.equal(view.status[1]['Diagnostic-Code'], 'smtp; 550 5.1.1 user unknown');
    assert.equal(view.status[1]['Remote-MTA'], 'dns; a8-70.smtp-out.amazonses.com');
    assert.equal(Date.parse(view.status[0]['Arrival-Date']), Date.parse(SENT));
    assert.match(view.returned ?? '', /^Subject: Quarterly numbers\r?$/m, 'the headers SES kept are returned');
  });

  it('a redelivered event (SNS and EventBridge deliver at least once) sends no second DSN', async () => {
    const d = deps();
    const feedback = parseSesFeedback(asEventBridge(bounceRecord()))!;
    await handleSesFeedback(feedback, d);
    await handleSesFeedback(feedback, d);
    assert.equal(d.sender.calls, 2);
    assert.equal(d.sender.sent.size, 1);
  });

  it('a transient bounce is reported but not suppressed', async () => {
    ses.suppressed.clear();
    const d = deps();
    await handleSesFeedback(parseSesFeedback(asSns(bounceRecord('Transient')))!, d);
    assert.equal(ses.suppressed.size, 0);
    assert.equal(d.sender.sent.size, 1);
  });

  it('a complaint suppresses the address and sends no DSN', async () => {
    ses.suppressed.clear();
    const d = deps();
    const complaint = {
      eventType: 'Complaint',
      mail: mail(),
      complaint: { complainedRecipients: [{ emailAddress: 'carol@remote.test' }], complaintFeedbackType: 'abuse' },
    };
    const result = await handleSesFeedback(parseSesFeedback(asSns(complaint))!, d);
    assert.equal(result.reported, false);
    assert.equal(ses.suppressed.get('carol@remote.test'), 'COMPLAINT');
    assert.equal(d.sender.calls, 0);
  });

  it('a bounce of one of our DSNs (source MAILER-DAEMON) is never reported: no loops (RFC 3461 §6.2)', async () => {
    const d = deps();
    const result = await handleSesFeedback(
      parseSesFeedback(asSns(bounceRecord('Permanent', 'MAILER-DAEMON@mx.example.org')))!,
      d,
    );
    assert.equal(result.reported, false);
    assert.equal(d.sender.calls, 0);
  });
});
