/**
 * The sesFeedback Lambda end to end: its entry point (functions/sesfeedback/index.ts), configured by its
 * environment as the stack configures it, over DynamoDB Local and the S3 stand-in through the real SDK, with
 * the SESv2 stand-in as SES. A message goes out through the ses transport as the deliver step builds it (with
 * the configuration set), SES's EventBridge event for it comes back: a bounce puts the recipient on the
 * suppression list and an RFC 3464 DSN in the local sender's INBOX (read back from storage, parsed by
 * Python's email package); a complaint suppresses and reports nothing; junk is logged and acknowledged.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { loadOutboundConfig } from '../../lib/core/config.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, MailboxRef, Storage } from '../../lib/core/ports.ts';
import { BUCKET_ENV, TABLE_ENV, TABLE_IDS } from '../../lib/core/schema.ts';
import type { SesFeedbackResult } from '../../lib/outbound/sesFeedbackHandler.ts';
import { OUTBOUND_FACTORIES } from '../../lib/storage/aws/queueWiring.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { parseWithPython } from '../support/dsnCheck.ts';
import { type SesStandIn, startSesStandIn } from '../support/sesStandIn.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

const CONFIGURATION_SET = 'postern-test-feedback';
const MESSAGE = Buffer.from(
  'From: Alice <alice@example.org>\r\nTo: bob@remote.test\r\nSubject: Quarterly numbers\r\n' +
    'Message-ID: <q3@example.org>\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n\r\nThe numbers.\r\n',
);

let ses: SesStandIn;
let storage: Storage;
let alice: Account;
let inbox: MailboxRef;
let handler: (event: unknown) => Promise<unknown>;

before(async () => {
  ses = await startSesStandIn();
  const endpoints = await testEndpoints();
  const names = await freshNames(endpoints);
  storage = createAwsStorage({ endpoints, names });
  await storage.directory.addDomain('example.org');
  alice = await storage.directory.addAccount({ address: 'alice@example.org', passwordHash: 'unused' });
  const boxes = await storage.mail.ensureDefaultMailboxes(alice.accountId);
  inbox = boxes.find((b) => b.name === 'INBOX')!;
  // The environment the stack gives the function (test/infra/config-contract.test.ts), pointed at the stand-ins.
  Object.assign(process.env, {
    ...Object.fromEntries(TABLE_IDS.map((id) => [TABLE_ENV[id], names.tables[id]])),
    [BUCKET_ENV]: names.bucket,
    POSTERN_HOSTNAME: 'mx.example.org',
    POSTERN_SES_CONFIGURATION_SET: CONFIGURATION_SET,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
  });
  ({ handler } = await import('../../functions/sesfeedback/index.ts'));
});
after(async () => {
  storage.close();
  await ses.close();
});

/** Runs the Lambda handler on a JSON round trip of the event, with the JSON log lines it writes. */
async function invoke(event: unknown): Promise<{ result: SesFeedbackResult; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(chunk.toString());
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = (await handler(JSON.parse(JSON.stringify(event)))) as SesFeedbackResult;
    return { result, logs: lines.flatMap((l) => l.trim().split('\n')).map((l) => JSON.parse(l)) };
  } finally {
    process.stdout.write = write;
  }
}

/** Sends MESSAGE through the ses transport the deliver step builds from this environment; SES's message id. */
async function sendThroughSes(recipient: string): Promise<string> {
  const config = loadOutboundConfig(process.env);
  const ctx = { endpoints: { ses: ses.endpoint, region: 'eu-west-1' }, dkim: undefined as never, log: silentLogger };
  const transport = OUTBOUND_FACTORIES.transports.ses!(config, ctx);
  const envelope = { mailFrom: 'alice@example.org', domain: 'remote.test', recipients: [recipient] };
  const [outcome] = await transport.deliver(envelope, async () => Readable.from([MESSAGE]), MESSAGE.length);
  assert.equal(outcome.result, 'delivered');
  const request = ses.requests.at(-1)!;
  assert.equal(request.body.ConfigurationSetName, CONFIGURATION_SET, 'sent with the configuration set');
  return /queued as (\S+)$/.exec(outcome.reply)![1];
}

/** SES's EventBridge event for that message (its event publishing format, headers included). */
function eventBridgeEvent(sesMessageId: string, detailType: string, record: object) {
  return {
    version: '0',
    id: `evt-${sesMessageId}`,
    'detail-type': detailType,
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-12-02T10:00:06Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      mail: {
        timestamp: '2026-12-02T10:00:00.000Z',
        source: 'alice@example.org',
        messageId: sesMessageId,
        destination: ['bob@remote.test'],
        headersTruncated: false,
        headers: [
          { name: 'From', value: 'Alice <alice@example.org>' },
          { name: 'Subject', value: 'Quarterly numbers' },
          { name: 'Message-ID', value: '<q3@example.org>' },
        ],
        tags: { 'ses:configuration-set': [CONFIGURATION_SET] },
      },
      ...record,
    },
  };
}

const bounce = (address: string) => ({
  eventType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    timestamp: '2026-12-02T10:00:05.000Z',
    feedbackId: 'feedback-1',
    reportingMTA: 'dns; a8-70.smtp-out.amazonses.com',
    bouncedRecipients: [
      { emailAddress: address, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
    ],
  },
});

const complaint = (address: string) => ({
  eventType: 'Complaint',
  complaint: {
    complainedRecipients: [{ emailAddress: address }],
    timestamp: '2026-12-02T11:00:00.000Z',
    feedbackId: 'feedback-2',
    complaintFeedbackType: 'abuse',
  },
});

async function inboxTexts(): Promise<Buffer[]> {
  const metas = await storage.mail.listMessages(inbox);
  return Promise.all(
    metas.map(async (m) =>
      Buffer.concat([Buffer.from(m.headerPrefix), await buffer(await storage.blobs.get(m.blobKey))]),
    ),
  );
}

describe('sesFeedback function', () => {
  it('a permanent bounce of a message we sent: the recipient is suppressed, the sender gets a DSN in INBOX (RFC 3464), once', async () => {
    const sesMessageId = await sendThroughSes('bob@remote.test');
    const event = eventBridgeEvent(sesMessageId, 'Email Bounced', bounce('Bob@remote.test'));
    const { result } = await invoke(event);
    assert.deepEqual(result, { handled: 1, reported: 1, ignored: 0 });
    assert.equal(ses.suppressed.get('bob@remote.test'), 'BOUNCE');

    const texts = await inboxTexts();
    assert.equal(texts.length, 1, 'one DSN in the sender’s INBOX');
    const dsn = parseWithPython(texts[0]);
    assert.equal(dsn.reportType, 'delivery-status');
    assert.match(dsn.headers.From, /MAILER-DAEMON@mx\.example\.org/i);
    const [perMessage, perRecipient] = dsn.status;
    assert.match(perMessage['Reporting-MTA'], /^dns; ?mx\.example\.org$/);
    assert.match(perRecipient['Final-Recipient'], /^rfc822; ?Bob@remote\.test$/i);
    assert.equal(perRecipient.Action, 'failed');
    assert.equal(perRecipient.Status, '5.1.1');
    assert.match(perRecipient['Diagnostic-Code'], /^smtp; ?550 5\.1\.1 user unknown/);
    assert.ok(dsn.parts.includes('text/rfc822-headers'), 'the original headers come back (RET=HDRS default)');
    assert.match(texts[0].toString(), /Subject: Quarterly numbers/);

    // EventBridge and Lambda deliver at least once: the same event again changes nothing.
    assert.deepEqual((await invoke(event)).result, { handled: 1, reported: 1, ignored: 0 });
    assert.equal((await inboxTexts()).length, 1, 'a redelivered event does not send a second DSN');
    assert.equal(ses.suppressed.size, 1);
  });

  it('a complaint: the complainer is suppressed, no DSN (the message was delivered)', async () => {
    const sesMessageId = await sendThroughSes('carol@remote.test');
    const before = (await inboxTexts()).length;
    const { result } = await invoke(
      eventBridgeEvent(sesMessageId, 'Email Complaint Received', complaint('carol@remote.test')),
    );
    assert.deepEqual(result, { handled: 1, reported: 0, ignored: 0 });
    assert.equal(ses.suppressed.get('carol@remote.test'), 'COMPLAINT');
    assert.equal((await inboxTexts()).length, before);
  });

  it('the same bounce through SNS (a Lambda SNS event, Message a JSON string) is handled as well', async () => {
    const sesMessageId = await sendThroughSes('erin@remote.test');
    const before = (await inboxTexts()).length;
    const { detail } = eventBridgeEvent(sesMessageId, 'Email Bounced', bounce('erin@remote.test'));
    const sns = {
      Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', Message: JSON.stringify(detail) } }],
    };
    assert.deepEqual((await invoke(sns)).result, { handled: 1, reported: 1, ignored: 0 });
    assert.equal(ses.suppressed.get('erin@remote.test'), 'BOUNCE');
    assert.equal((await inboxTexts()).length, before + 1);
  });

  it('malformed or foreign events are logged and acknowledged: no throw (so no retry), nothing recorded or sent', async () => {
    const suppressed = ses.suppressed.size;
    const before = (await inboxTexts()).length;
    const junk: unknown[] = [
      null,
      'not json at all',
      {},
      { source: 'aws.ses', 'detail-type': 'Email Bounced', detail: { eventType: 'Bounce' } },
      { source: 'aws.ses', 'detail-type': 'Email Bounced', detail: { eventType: 'Bounce', mail: { messageId: 'x' } } },
      eventBridgeEvent('0100-delivered', 'Email Delivered', { eventType: 'Delivery', delivery: {} }),
      { Records: [{ Sns: { Type: 'Notification', Message: '{not json' } }, { nothing: true }] },
    ];
    for (const event of junk) {
      const { result, logs } = await invoke(event);
      assert.equal(result.handled, 0, JSON.stringify(event));
      assert.ok(result.ignored >= 1);
      const warnings = logs.filter((l) => l.level === 'warn' && /ses event ignored/.test(String(l.msg)));
      assert.equal(warnings.length, result.ignored, 'each ignored event is logged');
      assert.equal(warnings[0].component, 'sesFeedback');
    }
    assert.equal(ses.suppressed.size, suppressed);
    assert.equal((await inboxTexts()).length, before);
  });

  it('an SES outage throws (Lambda retries the event, at most twice), and the retry then records it', async () => {
    const sesMessageId = await sendThroughSes('dave@remote.test');
    const event = eventBridgeEvent(sesMessageId, 'Email Bounced', bounce('dave@remote.test'));
    ses.failNext({ status: 503, type: 'ServiceUnavailableException', message: 'try later' });
    await assert.rejects(invoke(event), /try later|ServiceUnavailable/);
    assert.equal(ses.suppressed.has('dave@remote.test'), false);
    assert.deepEqual((await invoke(event)).result, { handled: 1, reported: 1, ignored: 0 });
    assert.equal(ses.suppressed.get('dave@remote.test'), 'BOUNCE');
  });
});
