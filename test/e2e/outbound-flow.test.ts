/**
 * Outbound mail through every real part at once: Python smtplib submits on 587 (STARTTLS, AUTH) to a local and
 * two remote recipients; the gateway stores the local copy and enqueues the rest in the DynamoDB queue; the
 * deliver step the gateway kicks signs with the domain's keys from the local key store and hands the message
 * to the smarthost (smtp-server, not ours), which takes one recipient and refuses the other with 550; the
 * sender then finds an RFC 3464 report in their INBOX (read with imaplib, parsed with Python's email package),
 * and python3-dkim verifies both signatures. The same with the emulator's outbox transport.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { outboxDir } from '../../lib/outbound/transports/outbox.ts';
import { runAdmin } from '../support/adminCli.ts';
import { parseWithPython } from '../support/dsnCheck.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { startSink } from '../support/smtpSink.ts';
import {
  inbox,
  inboxWith,
  message,
  queueEntries,
  settledEntry,
  startOutboundGateway,
  statusOf,
  submit,
} from './outbound-flow-support.ts';

const BOB = { address: 'bob@ours.test', password: 'bob-secret' };
const CAROL = { address: 'carol@ours.test', password: 'carol-secret' };

// Everything is set up at the top level: an `after` hook registered in an async describe body after an await
// may land on another suite (node:test finds the hook's owner by the running async context), and close early.
const sink = await startSink({ idleCloseMs: 1000 });
after(() => sink.close());
const { tg, dkimRecords } = await startOutboundGateway({
  POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
  POSTERN_SMARTHOST: `127.0.0.1:${sink.port}`,
  POSTERN_SMARTHOST_TLS: 'none',
});
await tg.addAccount(BOB.address, BOB.password);
await tg.addAccount(CAROL.address, CAROL.password);
// No timer to speak of (10 minutes): the message leaves only because submission kicks the deliver step.
const outbox = await startOutboundGateway({ POSTERN_OUTBOUND_TRANSPORT: 'outbox', POSTERN_QUEUE_POLL_MS: '600000' });
await outbox.tg.addAccount(BOB.address, BOB.password);

describe('outbound end to end: submission, queue, DKIM, smarthost, DSN', () => {
  const recipients = ['carol@ours.test', 'ok@remote.test', 'hard@remote.test'];

  it('smtplib on 587 is accepted for all three recipients (the remote 550 comes later, from the queue)', async () => {
    const refused = await submit(
      tg,
      BOB,
      BOB.address,
      recipients,
      message(`Bob <${BOB.address}>`, recipients, 'e2e one'),
    );
    assert.deepEqual(refused, {});
  });

  it('the local recipient has the message in their INBOX', async () => {
    const [copy] = await inboxWith(tg, CAROL);
    assert.match(copy.toString('latin1'), /^Subject: e2e one\r$/m);
  });

  it('the queue shows ok@ delivered and hard@ failed with the 550 (what admin queue show prints)', async () => {
    const entry = await settledEntry(tg, 'hard@remote.test');
    await settledEntry(tg, 'ok@remote.test');
    const settled = (await queueEntries(tg)).find((e) => e.id === entry.id)!;
    assert.equal(settled.domain, 'remote.test');
    assert.equal(settled.mailFrom, BOB.address);
    assert.equal(statusOf(settled, 'ok@remote.test'), 'delivered');
    assert.equal(statusOf(settled, 'hard@remote.test'), 'failed');
    assert.match(settled.recipients.find((r) => r.address === 'hard@remote.test')!.lastReply ?? '', /^550 5\.1\.1/);
    assert.ok(!settled.recipients.some((r) => r.address === 'carol@ours.test'), 'the local recipient is not queued');
  });

  it('the smarthost received it exactly once for ok@, from the envelope sender', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // several more queue passes: nothing goes twice
    const forOk = sink.transactions.filter((t) => t.rcpts.some((r) => r.address === 'ok@remote.test'));
    assert.equal(forOk.length, 1);
    assert.equal(forOk[0].mailFrom, BOB.address);
    assert.deepEqual(
      forOk[0].rcpts.map((r) => r.address),
      ['ok@remote.test'],
    );
    assert.match(forOk[0].data.toString('latin1'), /^Subject: e2e one\r$/m);
  });

  it('its RSA and Ed25519 DKIM signatures verify with python3-dkim (RFC 6376, RFC 8463)', async () => {
    const [sent] = sink.transactions.filter((t) => t.rcpts.some((r) => r.address === 'ok@remote.test'));
    const signatures = sent.data.toString('latin1').match(/^DKIM-Signature:.*(\r\n[ \t].*)*/gim) ?? [];
    assert.deepEqual(signatures.map((s) => /\ba=([\w-]+)/.exec(s)?.[1]).sort(), ['ed25519-sha256', 'rsa-sha256']);
    assert.ok(signatures.every((s) => /\bd=ours\.test;/.test(s)));
    assert.deepEqual(await verifyWithDkimpy(sent.data, dkimRecords), [true, true]);
  });

  it('the sender gets an RFC 3464 report for hard@ in their INBOX: Action failed, Status 5.1.1', async () => {
    const [dsn] = await inboxWith(tg, BOB);
    const view = parseWithPython(dsn);
    assert.equal(view.reportType, 'delivery-status');
    assert.deepEqual(view.parts.slice(0, 2), ['text/plain', 'message/delivery-status']);
    assert.equal(view.status.length, 2, 'per-message fields, then one recipient: ok@ is not reported');
    const [perMessage, recipient] = view.status;
    assert.match(perMessage['Reporting-MTA'], /^dns; ?\S+/);
    assert.match(recipient['Final-Recipient'], /^rfc822; ?hard@remote\.test$/);
    assert.equal(recipient.Action, 'failed');
    assert.equal(recipient.Status, '5.1.1', 'the enhanced code of the 550 reply (RFC 3464 §2.3.4)');
    assert.match(recipient['Diagnostic-Code'] ?? '', /^smtp; ?550/);
    assert.match(view.headers.To, /bob@ours\.test/);
    assert.match(view.returned ?? '', /Subject: e2e one/);
    assert.deepEqual(view.defects, []);
  });

  it('the report went out with the null sender and was not queued (local sender: straight to the mailbox)', async () => {
    const entries = await queueEntries(tg);
    assert.equal(entries.length, 1, entries.map((e) => `${e.mailFrom} -> ${e.domain}`).join('; '));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await inbox(tg, BOB)).length, 1, 'one report, not one per pass');
  });
});

describe('outbound end to end: the outbox transport (the emulator default)', () => {
  const { tg, dataDir, dkimRecords } = outbox;

  it('a submitted message leaves at once (the kick after enqueue), signed into <dataDir>/outbox; admin outbox list shows it', async () => {
    const to = ['someone@remote.test'];
    assert.deepEqual(await submit(tg, BOB, BOB.address, to, message(`Bob <${BOB.address}>`, to, 'to the outbox')), {});
    const submitted = Date.now();
    const entry = await settledEntry(tg, 'someone@remote.test');
    assert.equal(statusOf(entry, 'someone@remote.test'), 'delivered');
    assert.ok(Date.now() - submitted < 15_000, 'long before the next timer tick');
    const files = readdirSync(outboxDir(dataDir)).sort();
    assert.equal(files.length, 2, files.join(' '));
    const eml = readFileSync(join(outboxDir(dataDir), files.find((f) => f.endsWith('.eml'))!));
    assert.deepEqual(await verifyWithDkimpy(eml, dkimRecords), [true, true]);
    const listed = await runAdmin(['outbox', 'list'], { dataDir });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /bob@ours\.test -> someone@remote\.test {2}\d+ bytes {2}to the outbox/);
  });
});
