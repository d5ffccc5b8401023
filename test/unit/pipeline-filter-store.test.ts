import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { readMessage } from '../../lib/core/messageBody.ts';
import { hashPassword } from '../../lib/core/password.ts';
import type { Storage } from '../../lib/core/ports.ts';
import type { FilterRequest } from '../../lib/pipeline/contracts.ts';
import { stubResolver } from '../../lib/pipeline/dns.ts';
import { filter } from '../../lib/pipeline/filter.ts';
import { store } from '../../lib/pipeline/store.ts';
import { DefaultScorer, EicarScanner } from '../../lib/pipeline/verdict.ts';
import { defaultDns, dkimSignTest, simpleMessage, testDkimKeys } from '../protocol/smtp-helpers.ts';
import { freshStorage } from '../support/storage.ts';

// created at the top level: freshStorage registers its cleanup with after(), which inside a hook would run
// as soon as the hook ends
const storage: Storage = await freshStorage();
let n = 0;

async function put(text: string): Promise<{ blobKey: string; blobSize: number }> {
  const blobKey = `messages/test-${++n}`;
  const { size } = await storage.blobs.put(blobKey, Buffer.from(text));
  return { blobKey, blobSize: size };
}

describe('filter (SPF, DKIM, DMARC with a stub resolver; verdicts)', () => {
  const deps = () => ({
    blobs: storage.blobs,
    resolver: stubResolver(defaultDns(testDkimKeys().publicKey)),
    scorer: new DefaultScorer(),
    scanner: new EicarScanner(),
  });
  const request = (blob: { blobKey: string; blobSize: number }, over: Partial<FilterRequest> = {}): FilterRequest => ({
    messageId: 'm',
    ...blob,
    mailFrom: 'alice@sender.test',
    helo: 'client.example',
    clientIp: '127.0.0.1',
    recipients: ['bob@ours.test'],
    authservId: 'mx.test.example',
    ...over,
  });

  test('SPF pass and a valid DKIM signature: delivered to INBOX with Authentication-Results (RFC 8601)', async () => {
    const signed = await dkimSignTest(simpleMessage());
    const res = await filter(deps(), request(await put(signed)));
    assert.equal(res.action, 'deliver');
    assert.equal(res.mailbox, 'INBOX');
    assert.match(res.headers, /^Received-SPF: pass/);
    assert.match(
      res.headers,
      /Authentication-Results: mx\.test\.example;\r\n dkim=pass header\.i=@sender\.test header\.s=sel/,
    );
    assert.match(res.headers, /spf=pass/);
    assert.match(res.headers, /dmarc=pass/);
    assert.match(res.headers, /X-Spam-Status: No, score=0\.0 required=5\.0/);
    assert.equal(res.summary?.envelope.subject, 'hello');
    assert.ok(res.headers.endsWith('\r\n'));
  });

  test('DMARC p=reject failure is refused (550 5.7.1)', async () => {
    // SPF fails (wrong IP) and no DKIM: no aligned pass
    const res = await filter(deps(), request(await put(simpleMessage()), { clientIp: '192.0.2.99' }));
    assert.equal(res.action, 'reject');
    assert.deepEqual({ code: res.reply?.code, enhanced: res.reply?.enhanced }, { code: 550, enhanced: '5.7.1' });
    assert.equal(res.dmarc?.result, 'fail');
  });

  test('a broken DKIM signature with SPF fail is refused too; with SPF pass it is delivered', async () => {
    const signed = (await dkimSignTest(simpleMessage())).replace('Hello Bob.', 'Hello Eve.');
    const bad = await filter(deps(), request(await put(signed), { clientIp: '192.0.2.99' }));
    assert.equal(bad.action, 'reject');
    assert.match(bad.headers, /dkim=(fail|neutral) \(body hash did not verify\)/);
    const ok = await filter(deps(), request(await put(signed)));
    assert.equal(ok.action, 'deliver');
  });

  test('DMARC p=quarantine failure goes to Junk', async () => {
    const msg = simpleMessage({ from: 'q@quarantine.test' });
    const res = await filter(deps(), request(await put(msg), { mailFrom: 'q@quarantine.test' }));
    assert.equal(res.action, 'deliver');
    assert.equal(res.mailbox, 'Junk');
  });

  test('spam score above the threshold: Junk with X-Spam-Flag; GTUBE: refused', async () => {
    const msg = 'From: x@nodmarc.test\r\nSubject: BUY CHEAP THINGS NOW\r\n\r\nhi\r\n';
    const res = await filter(deps(), request(await put(msg), { mailFrom: 'x@nodmarc.test' }));
    assert.equal(res.action, 'deliver');
    assert.equal(res.mailbox, 'Junk');
    assert.ok(res.spam.score >= 5, String(res.spam.score));
    assert.match(res.headers, /X-Spam-Flag: YES\r\n/);
    assert.match(res.headers, /tests=.*SPF_FAIL/);
    const gtube = simpleMessage({ body: 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n' });
    const refused = await filter(deps(), request(await put(gtube)));
    assert.equal(refused.action, 'reject');
  });

  test('a virus (EICAR test file) is refused', async () => {
    const msg = simpleMessage({ body: 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\r\n' });
    const res = await filter(deps(), request(await put(msg)));
    assert.equal(res.action, 'reject');
    assert.equal(res.virus.infected, true);
    assert.equal(res.reply?.code, 554);
  });

  test('DNS trouble (SERVFAIL) does not refuse mail', async () => {
    const res = await filter(
      { ...deps(), resolver: stubResolver({ 'sender.test': 'SERVFAIL', '_dmarc.sender.test': 'SERVFAIL' }) },
      request(await put(simpleMessage())),
    );
    assert.equal(res.action, 'deliver');
    assert.match(res.headers, /spf=temperror/);
  });
});

describe('store', () => {
  let bob: string;
  let carol: string;
  before(async () => {
    await storage.directory.addDomain('ours.test');
    const hash = await hashPassword('pw');
    bob = (await storage.directory.addAccount({ address: 'bob@ours.test', passwordHash: hash })).accountId;
    carol = (await storage.directory.addAccount({ address: 'carol@ours.test', passwordHash: hash, quotaBytes: 2000 }))
      .accountId;
  });

  test('one copy per recipient with its own prefix; a retry with the same key adds nothing', async () => {
    const text = simpleMessage();
    const blob = await put(text);
    const req = {
      messageId: 'tx1',
      idempotencyKey: 'key-1',
      ...blob,
      internalDate: 1_700_000_000_000,
      deliveries: [
        { accountId: bob, headerPrefix: 'Return-Path: <a@b>\r\nDelivered-To: bob@ours.test\r\n' },
        { accountId: carol, headerPrefix: 'Return-Path: <a@b>\r\nDelivered-To: carol@ours.test\r\n' },
        { accountId: bob, headerPrefix: 'Return-Path: <a@b>\r\nDelivered-To: bob@ours.test\r\n' },
      ],
    };
    const first = await store(storage, req);
    assert.equal(first.delivered.length, 2);
    assert.deepEqual(first.failed, []);
    assert.ok(first.delivered.every((d) => !d.duplicate && d.mailbox === 'INBOX'));
    const again = await store(storage, { ...req, messageId: 'tx2' });
    assert.ok(again.delivered.every((d) => d.duplicate));
    const box = await storage.mail.getMailbox(bob, 'INBOX');
    const list = await storage.mail.listMessages(box!);
    assert.equal(list.length, 1);
    const bytes = await readMessage(storage.blobs, list[0]);
    assert.equal(bytes.toString(), `Return-Path: <a@b>\r\nDelivered-To: bob@ours.test\r\n${text}`);
    assert.equal(list[0].size, bytes.length);
    assert.equal(list[0].internalDate, 1_700_000_000_000);
    const summary = list[0].summary as { size: number; headerSize: number; envelope: { subject: string } };
    assert.equal(summary.size, bytes.length);
    assert.equal(summary.envelope.subject, 'hello');
    assert.equal(bytes.subarray(summary.headerSize - 4, summary.headerSize).toString(), '\r\n\r\n');
  });

  test('quota: within quota before the copy is accepted, over it is reported (not thrown)', async () => {
    const big = await put(simpleMessage({ body: `${'x'.repeat(1900)}\r\n` }));
    const req = (key: string) => ({
      messageId: key,
      idempotencyKey: key,
      ...big,
      internalDate: Date.now(),
      deliveries: [{ accountId: carol, headerPrefix: '' }],
    });
    // carol already holds one small message (< 2000): the next one fits "before", and takes her over
    const first = await store(storage, req('q1'));
    assert.equal(first.delivered.length, 1);
    const second = await store(storage, req('q2'));
    assert.deepEqual(second.failed, [{ accountId: carol, reason: 'quota' }]);
    assert.equal(second.delivered.length, 0);
  });

  test('Junk delivery and unknown accounts', async () => {
    const blob = await put(simpleMessage());
    const res = await store(storage, {
      messageId: 'j',
      idempotencyKey: 'junk-1',
      ...blob,
      internalDate: Date.now(),
      deliveries: [
        { accountId: bob, mailbox: 'Junk', headerPrefix: '' },
        { accountId: 'no-such-account', headerPrefix: '' },
      ],
    });
    assert.deepEqual(
      res.delivered.map((d) => d.mailbox),
      ['Junk'],
    );
    assert.deepEqual(res.failed, [{ accountId: 'no-such-account', reason: 'no-account' }]);
  });
});
