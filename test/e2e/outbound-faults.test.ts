/**
 * Outbound retries and faults through every real part: submission on 587 (Python smtplib), the DynamoDB queue
 * worked by the gateway's deliver kicker, the smarthost transport to smtp-server behind a TCP proxy that can
 * cut a connection at the end of DATA. A 450 is retried on POSTERN_RETRY_SCHEDULE and expires after
 * POSTERN_QUEUE_LIFETIME with a 5.4.7 report; a host that changes its mind gets the message once; a cut
 * connection defers and the next attempt delivers; a message with the null sender is never bounced.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseWithPython } from '../support/dsnCheck.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { startSink } from '../support/smtpSink.ts';
import {
  inbox,
  inboxWith,
  message,
  queueEntries,
  settledEntry,
  startCuttingProxy,
  startOutboundGateway,
  statusOf,
  submit,
  waitFor,
} from './outbound-flow-support.ts';

const account = (name: string) => ({ address: `${name}@ours.test`, password: `${name}-secret` });
const BOB = account('bob');
const CAROL = account('carol');
const DAVE = account('dave');
const ERIN = account('erin');
const FRANK = account('frank');

/** `later@` is refused with 450 until `acceptLater` is set. */
let acceptLater = false;
const sink = await startSink({
  // the host closes idle sessions quickly, so the transport's pooled session is often gone by the next message
  idleCloseMs: 300,
  rcptReply: (address) =>
    address === 'later@remote.test' && !acceptLater ? { code: 450, message: '4.2.1 Not yet' } : undefined,
});
after(() => sink.close());
const proxy = await startCuttingProxy(sink.port);
const { tg, dkimRecords } = await startOutboundGateway({
  POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
  POSTERN_SMARTHOST: `127.0.0.1:${proxy.port}`,
  POSTERN_SMARTHOST_TLS: 'none',
  POSTERN_RETRY_SCHEDULE: '1,1',
  POSTERN_QUEUE_LIFETIME: '4s',
});
for (const a of [BOB, CAROL, DAVE, ERIN, FRANK]) await tg.addAccount(a.address, a.password);

// A second gateway that warns of delays after 1 s (set up here, at the top level: see outbound-flow.test.ts).
const slow = await startSink({ idleCloseMs: 1000 });
after(() => slow.close());
const { tg: warned } = await startOutboundGateway({
  POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
  POSTERN_SMARTHOST: `127.0.0.1:${slow.port}`,
  POSTERN_SMARTHOST_TLS: 'none',
  POSTERN_RETRY_SCHEDULE: '1,1',
  POSTERN_DELAY_WARNING: '1s',
  POSTERN_QUEUE_LIFETIME: '5s',
});
await warned.addAccount(BOB.address, BOB.password);

const taken = (address: string) => sink.transactions.filter((t) => t.rcpts.some((r) => r.address === address)).length;
const attemptsAt = (address: string) => sink.rcptAttempts.filter((a) => a === address).length;
const send = (from: { address: string; password: string }, mailFrom: string, to: string, subject: string) =>
  submit(tg, from, mailFrom, [to], message(`<${from.address}>`, [to], subject));

describe('outbound end to end: retries and faults', () => {
  it('a 450 is retried on the schedule and, past the lifetime, fails with a 5.4.7 report to the sender', async () => {
    const started = Date.now();
    assert.deepEqual(await send(BOB, BOB.address, 'soft@remote.test', 'soft'), {});
    const entry = await settledEntry(tg, 'soft@remote.test');
    const took = Date.now() - started;
    assert.equal(statusOf(entry, 'soft@remote.test'), 'failed');
    assert.ok(took >= 4000, `failed only after the 4 s lifetime (${took} ms)`);
    // schedule 1,1: an attempt at once and about one a second until the lifetime ends
    assert.ok(attemptsAt('soft@remote.test') >= 3, `${attemptsAt('soft@remote.test')} attempts`);
    assert.ok(attemptsAt('soft@remote.test') <= 6, `${attemptsAt('soft@remote.test')} attempts`);
    assert.equal(taken('soft@remote.test'), 0);
    const [dsn] = await inboxWith(tg, BOB);
    const [, recipient] = parseWithPython(dsn).status;
    assert.match(recipient['Final-Recipient'], /^rfc822; ?soft@remote\.test$/);
    assert.equal(recipient.Action, 'failed');
    assert.equal(recipient.Status, '5.4.7', 'delivery time expired (RFC 3463 §3.5)');
    assert.match(recipient['Diagnostic-Code'] ?? '', /450/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await inbox(tg, BOB)).length, 1, 'one report');
  });

  it('a host that answers 450 and then accepts gets the message once; no report', async () => {
    assert.deepEqual(await send(CAROL, CAROL.address, 'later@remote.test', 'later'), {});
    await waitFor('the first 450', async () => attemptsAt('later@remote.test') >= 1);
    // the sink has answered; the queue records the attempt just after
    const recorded = async () => {
      const entry = (await queueEntries(tg)).find((e) => e.recipients.some((r) => r.address === 'later@remote.test'));
      return entry && statusOf(entry, 'later@remote.test') !== 'scheduled' && entry;
    };
    const deferred = await waitFor('the 450 recorded', recorded);
    assert.equal(statusOf(deferred, 'later@remote.test'), 'deferred');
    acceptLater = true;
    const entry = await settledEntry(tg, 'later@remote.test');
    assert.equal(statusOf(entry, 'later@remote.test'), 'delivered');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(taken('later@remote.test'), 1);
    assert.deepEqual(await inbox(tg, CAROL), [], 'no report (NOTIFY default: FAILURE,DELAY; no delay warning yet)');
  });

  it('a connection cut before the final dot defers; the next attempt delivers exactly once', async () => {
    proxy.arm('before-dot');
    assert.deepEqual(await send(DAVE, DAVE.address, 'cut@remote.test', 'cut'), {});
    const entry = await settledEntry(tg, 'cut@remote.test');
    assert.equal(statusOf(entry, 'cut@remote.test'), 'delivered');
    assert.equal(entry.recipients[0].attempts, 2, 'the cut attempt, then the one that delivered');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(taken('cut@remote.test'), 1);
    assert.deepEqual(await inbox(tg, DAVE), []);
  });

  it('a connection cut after the final dot, before the 250: sent again, so at most one duplicate (RFC 5321 §6.1)', async () => {
    proxy.arm('after-dot');
    assert.deepEqual(await send(DAVE, DAVE.address, 'cut2@remote.test', 'cut after the dot'), {});
    const entry = await settledEntry(tg, 'cut2@remote.test');
    assert.equal(statusOf(entry, 'cut2@remote.test'), 'delivered');
    await new Promise((r) => setTimeout(r, 1500));
    // the host took it the first time without our knowing: the one duplicate the documented window allows
    assert.equal(taken('cut2@remote.test'), 2);
  });

  it('a message with the null sender that fails is not bounced (RFC 3461 §6.2, RFC 5321 §4.5.5)', async () => {
    const before = (await queueEntries(tg)).length;
    assert.deepEqual(await send(ERIN, '', 'hard-null@remote.test', 'null sender'), {});
    const entry = await settledEntry(tg, 'hard-null@remote.test');
    assert.equal(entry.mailFrom, '');
    assert.equal(statusOf(entry, 'hard-null@remote.test'), 'failed');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await queueEntries(tg)).length, before + 1, 'no report queued for anyone');
    assert.deepEqual(await inbox(tg, ERIN), [], 'and none delivered to the account that sent it');
  });

  it('NOTIFY=SUCCESS to a host without DSN: the sender gets a "relayed" report (RFC 3461 §5.2.2, RFC 3464 §2.3.3)', async () => {
    const to = ['receipt@remote.test'];
    const text = message(`<${FRANK.address}>`, to, 'receipt please');
    assert.deepEqual(await submit(tg, FRANK, FRANK.address, to, text, { rcpt: ['NOTIFY=SUCCESS'] }), {});
    const entry = await settledEntry(tg, 'receipt@remote.test');
    assert.equal(statusOf(entry, 'receipt@remote.test'), 'delivered');
    const [dsn] = await inboxWith(tg, FRANK);
    const [, recipient] = parseWithPython(dsn).status;
    assert.match(recipient['Final-Recipient'], /^rfc822; ?receipt@remote\.test$/);
    assert.equal(recipient.Action, 'relayed');
    assert.match(recipient.Status, /^2\.\d+\.\d+$/);
    assert.equal(taken('receipt@remote.test'), 1);
  });
  it('8-bit body and UTF-8 header arrive byte for byte, sent with BODY=8BITMIME (RFC 6152), the signatures verify', async () => {
    const to = ['utf8@remote.test'];
    const text = `From: <${FRANK.address}>\r\nTo: utf8@remote.test\r\nSubject: Grüße aus Köln\r\n\r\nÄrger über Umlaute: äöü ß €\r\n`;
    const refused = await submit(tg, FRANK, FRANK.address, to, text, { mail: ['BODY=8BITMIME', 'SMTPUTF8'] });
    assert.deepEqual(refused, {});
    const entry = await settledEntry(tg, 'utf8@remote.test');
    assert.equal(statusOf(entry, 'utf8@remote.test'), 'delivered');
    const [sent] = sink.transactions.filter((t) => t.rcpts.some((r) => r.address === 'utf8@remote.test'));
    assert.equal(sent.mailArgs.BODY, '8BITMIME');
    const received = sent.data.toString('utf8');
    assert.ok(received.includes('Subject: Grüße aus Köln\r\n'), received);
    assert.ok(received.includes('Ärger über Umlaute: äöü ß €\r\n'));
    assert.deepEqual(await verifyWithDkimpy(sent.data, dkimRecords), [true, true]);
  });

  it('SMTPUTF8 is asked of the next hop for a message with UTF-8 header fields (RFC 6531 §3.4)', {
    todo: 'nodemailer adds SMTPUTF8 only for non-ASCII addresses (docs/ARCHITECTURE.md, known gaps)',
  }, async () => {
    const [sent] = sink.transactions.filter((t) => t.rcpts.some((r) => r.address === 'utf8@remote.test'));
    assert.ok(sent && 'SMTPUTF8' in sent.mailArgs, JSON.stringify(sent?.mailArgs));
  });
});

describe('outbound end to end: a delay warning, then the failure', () => {
  it('a deferred message warns its sender once ("delayed", RFC 3464 §2.3.3), then reports the failure', async () => {
    const to = ['soft@remote.test'];
    assert.deepEqual(await submit(warned, BOB, BOB.address, to, message(`<${BOB.address}>`, to, 'slow')), {});
    await settledEntry(warned, 'soft@remote.test');
    const reports = await inboxWith(warned, BOB, 2);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await inbox(warned, BOB)).length, 2, 'one warning and one failure, nothing more');
    const [delayed, failed] = reports.map((r) => parseWithPython(r).status[1]);
    assert.equal(delayed.Action, 'delayed');
    assert.match(delayed.Status, /^4\.\d+\.\d+$/);
    assert.ok(delayed['Will-Retry-Until'], 'Will-Retry-Until (RFC 3464 §2.3.8)');
    assert.equal(failed.Action, 'failed');
    assert.equal(failed.Status, '5.4.7');
  });
});
