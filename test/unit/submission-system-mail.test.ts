/**
 * SystemMailSender over the delivery targets (lib/delivery/systemMail.ts), with the real store, route and
 * blob store (DynamoDB Local, the S3 stand-in) and an in-memory OutboundQueue double: a DSN for a local
 * recipient lands in the mailbox with the null sender, one for a remote recipient is queued with NOTIFY=NEVER,
 * and sending again with the same idempotency key delivers nothing twice; a failure throws.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../lib/core/log.ts';
import { readMessage } from '../../lib/core/messageBody.ts';
import { hashPassword } from '../../lib/core/password.ts';
import { systemMailSenderOver } from '../../lib/delivery/systemMail.ts';
import { createHandlers } from '../../lib/pipeline/handlers.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { MemoryQueue } from '../support/memoryQueue.ts';
import { freshStorage } from '../support/storage.ts';

const storage = await freshStorage();
await storage.directory.addDomain('ours.test');
const alice = await storage.directory.addAccount({ address: 'alice@ours.test', passwordHash: await hashPassword('x') });
await storage.mail.ensureDefaultMailboxes(alice.accountId);
await storage.directory.addAlias('alias@ours.test', ['alice@ours.test']);
const queue = new MemoryQueue();
let kicks = 0;
const sender = systemMailSenderOver(new LocalInvoker(createHandlers(storage)), {
  blobs: storage.blobs,
  queue,
  onEnqueued: () => kicks++,
  log: silentLogger,
  retry: { attempts: 1, retryDelayMs: 1 },
});
const dsn = (marker: string) =>
  Buffer.from(`From: MAILER-DAEMON@mx.test\r\nSubject: ${marker}\r\nContent-Type: multipart/report\r\n\r\nreport\r\n`);

async function inbox() {
  const box = (await storage.mail.getMailbox(alice.accountId, 'INBOX'))!;
  const metas = await storage.mail.listMessages(box);
  return Promise.all(metas.map(async (meta) => ({ meta, text: (await readMessage(storage.blobs, meta)).toString() })));
}

test('a local recipient (through an alias too): one copy with the null sender, however often it is sent', async () => {
  for (let i = 0; i < 2; i++) {
    await sender.send({ recipient: 'alias@ours.test', text: dsn('local-dsn'), idempotencyKey: 'dsn:1:1' });
  }
  const copies = (await inbox()).filter((m) => m.text.includes('local-dsn'));
  assert.equal(copies.length, 1);
  assert.match(copies[0].meta.headerPrefix, /^Return-Path: <>\r\nDelivered-To: alice@ours\.test\r\n/);
  assert.ok(copies[0].text.endsWith(dsn('local-dsn').toString()));
});

test('a remote recipient: one queue entry with the null sender and NOTIFY=NEVER (RFC 3461 §6.2), once', async () => {
  for (let i = 0; i < 2; i++) {
    await sender.send({ recipient: 'Bob@Remote.Example', text: dsn('remote-dsn'), idempotencyKey: 'dsn:2:1' });
  }
  const entries = queue.all();
  assert.equal(entries.length, 1);
  assert.equal(entries[0].mailFrom, '');
  assert.equal(entries[0].domain, 'remote.example');
  assert.deepEqual(
    entries[0].recipients.map((r) => [r.address, r.notify]),
    [['Bob@remote.example', []]],
  );
  assert.equal(await storage.blobs.head(entries[0].blobKey), dsn('remote-dsn').length);
  assert.equal(kicks, 1, 'the deliver step is started after the enqueue, not after the duplicate');
});

test('a failed enqueue throws, so the caller retries; the retry queues it', async () => {
  queue.failNext(1);
  const send = () => sender.send({ recipient: 'carol@remote.example', text: dsn('retry'), idempotencyKey: 'dsn:3:1' });
  await assert.rejects(send(), /not committed/);
  await send();
  assert.equal(queue.all().filter((e) => e.recipients[0].address === 'carol@remote.example').length, 1);
});

test('an address of ours that nobody has: nothing is sent, nothing thrown', async () => {
  const before = queue.enqueueCalls;
  await sender.send({ recipient: 'nobody@ours.test', text: dsn('x'), idempotencyKey: 'dsn:4:1' });
  assert.equal(queue.enqueueCalls, before);
});
