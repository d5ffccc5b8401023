/**
 * The SES transport through the real AWS SDK (@aws-sdk/client-sesv2) against a local stand-in of SESv2's
 * SendEmail (test/support/sesStandIn.ts): what is sent, how SES's answers become SMTP replies and queue
 * results, and the limits (40 MB, 50 recipients a call, no SMTPUTF8).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { OutboundEnvelope } from '../../lib/core/outbound.ts';
import { createSesTransport, makeSesClient, SesTransport } from '../../lib/storage/aws/sesTransport.ts';
import { type SesStandIn, startSesStandIn } from '../support/sesStandIn.ts';

const MESSAGE = Buffer.from(
  'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; b=abc\r\n' +
    'From: Alice <alice@example.org>\r\nTo: bob@remote.test\r\nSubject: Hello\r\n\r\nHi Bob \xe2\x80\x94 caf\xc3\xa9\r\n',
  'latin1',
);
const open =
  (bytes: Buffer = MESSAGE) =>
  async () =>
    Readable.from([bytes]);

function envelope(over: Partial<OutboundEnvelope> = {}): OutboundEnvelope {
  return { mailFrom: 'alice@example.org', domain: 'remote.test', recipients: ['bob@remote.test'], ...over };
}

let ses: SesStandIn;
let transport: SesTransport;

before(async () => {
  ses = await startSesStandIn();
  transport = createSesTransport(
    { ses: ses.endpoint, region: 'eu-west-1' },
    { configurationSet: 'postern', throttleRetriesMs: [1, 1] },
  );
});
after(() => ses.close());

function sent() {
  return ses.requests.splice(0);
}

describe('SES transport', () => {
  it('sends the whole message as Content.Raw to the envelope recipients, From/Feedback from the envelope', async () => {
    const outcomes = await transport.deliver(
      envelope({ recipients: ['bob@remote.test', 'carol@remote.test'] }),
      open(),
      MESSAGE.length,
    );
    const [request] = sent();
    assert.ok(request.raw.equals(MESSAGE), 'the bytes SES gets are the message, 8-bit text included');
    assert.deepEqual(request.body.Destination, { ToAddresses: ['bob@remote.test', 'carol@remote.test'] });
    assert.equal(request.body.FromEmailAddress, 'alice@example.org');
    assert.equal(request.body.FeedbackForwardingEmailAddress, 'alice@example.org');
    assert.equal(request.body.ConfigurationSetName, 'postern');
    assert.match(request.authorization, /\/eu-west-1\/ses\/aws4_request/);
    assert.equal(outcomes.length, 2);
    for (const o of outcomes) {
      assert.equal(o.result, 'delivered');
      assert.match(o.reply, /^250 2\.0\.0 Ok: queued as 0100stand-in-\d+$/);
      assert.equal(o.remoteMta, 'email.eu-west-1.amazonaws.com');
      assert.equal(o.handedTo, undefined, 'SES takes no DSN parameters: a success DSN says relayed');
    }
  });

  it('splits more than 50 recipients into calls of at most 50 (SES’s limit)', async () => {
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@remote.test`);
    const outcomes = await transport.deliver(envelope({ recipients }), open(), MESSAGE.length);
    const requests = sent();
    assert.deepEqual(
      requests.map((r) => r.body.Destination?.ToAddresses?.length),
      [50, 50, 20],
    );
    assert.deepEqual(
      requests.flatMap((r) => r.body.Destination?.ToAddresses),
      recipients,
    );
    assert.equal(outcomes.filter((o) => o.result === 'delivered').length, 120);
  });

  it('a message over the limit fails with 552 5.3.4 and is never sent, also when the size given was wrong', async () => {
    const small = new SesTransport({
      client: makeSesClient({ ses: ses.endpoint }),
      remoteMta: 'ses',
      maxMessageBytes: 1024,
    });
    const big = Buffer.alloc(4096, 0x61);
    const [bySize] = await small.deliver(envelope(), open(big), big.length);
    const [byBytes] = await small.deliver(envelope(), open(big), 100);
    for (const o of [bySize, byBytes]) {
      assert.equal(o.result, 'failed');
      assert.match(o.reply, /^552 5\.3\.4 /);
    }
    assert.equal(sent().length, 0);
  });

  it('MessageRejected and MailFromDomainNotVerified fail with a clear 5xx reply', async () => {
    ses.failNext(
      { status: 400, type: 'MessageRejected', message: 'Email address is not verified: bob@remote.test' },
      { status: 400, type: 'MailFromDomainNotVerifiedException', message: 'example.org is not verified' },
    );
    const [rejected] = await transport.deliver(envelope(), open(), MESSAGE.length);
    const [unverified] = await transport.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(rejected.result, 'failed');
    assert.equal(
      rejected.reply,
      '554 5.6.0 Amazon SES rejected the message: Email address is not verified: bob@remote.test',
    );
    assert.equal(unverified.result, 'failed');
    assert.equal(unverified.reply, '550 5.7.1 Sending domain not verified in Amazon SES: example.org is not verified');
    assert.equal(sent().length, 0);
  });

  it('throttling is retried a few times (nothing was sent), then deferred to the queue with 451 4.7.0', async () => {
    const throttled = { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' };
    ses.failNext(throttled, throttled);
    const [retried] = await transport.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(retried.result, 'delivered');
    assert.equal(sent().length, 1);
    ses.failNext(throttled, throttled, throttled);
    const [deferred] = await transport.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(deferred.result, 'deferred');
    assert.match(deferred.reply, /^451 4\.7\.0 Amazon SES throttled sending: Maximum sending rate exceeded\.$/);
    assert.equal(sent().length, 0);
  });

  it('a 5xx is deferred at once, not repeated (SES may have sent it: no doubled mail)', async () => {
    ses.failNext({ status: 500, type: 'InternalServiceErrorException', message: 'oops' });
    const [o] = await transport.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.3\.0 Amazon SES service error \(500\)/);
    assert.equal(sent().length, 0, 'no second call after the 500');
  });

  it('a paused account defers (the operator fixes it, the queue keeps the mail)', async () => {
    ses.failNext({ status: 400, type: 'SendingPausedException', message: 'paused' });
    const [o] = await transport.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.7\.0 /);
  });

  it('no answer at all (SES unreachable) defers with 451 4.4.1', async () => {
    const gone = await startSesStandIn();
    await gone.close();
    const unreachable = new SesTransport({ client: makeSesClient({ ses: gone.endpoint }), remoteMta: 'ses' });
    const [o] = await unreachable.deliver(envelope(), open(), MESSAGE.length);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.4\.1 No answer from Amazon SES/);
  });

  it('the null sender (our DSNs) sends without FromEmailAddress: SES takes the From field', async () => {
    const [o] = await transport.deliver(envelope({ mailFrom: '' }), open(), MESSAGE.length);
    assert.equal(o.result, 'delivered');
    const [request] = sent();
    assert.equal(request.body.FromEmailAddress, undefined);
    assert.equal(request.body.FeedbackForwardingEmailAddress, undefined);
  });

  it('no SMTPUTF8 at SES: a non-ASCII local part fails 553 5.6.7 (RFC 6531 §3.7.5); an IDN domain goes as A-labels', async () => {
    const outcomes = await transport.deliver(
      envelope({ recipients: ['jörg@remote.test', 'bob@bücher.test'] }),
      open(),
      MESSAGE.length,
    );
    assert.deepEqual(
      outcomes.map((o) => [o.address, o.result, o.reply.slice(0, 9)]),
      [
        ['jörg@remote.test', 'failed', '553 5.6.7'],
        ['bob@bücher.test', 'delivered', '250 2.0.0'],
      ],
    );
    assert.deepEqual(sent()[0].body.Destination?.ToAddresses, ['bob@xn--bcher-kva.test']);
    const [fromUtf8] = await transport.deliver(envelope({ mailFrom: 'jörg@example.org' }), open(), MESSAGE.length);
    assert.match(fromUtf8.reply, /^553 5\.6\.7 /);
    assert.equal(sent().length, 0);
  });
});
