/**
 * MailStore contract, run through the real AWS SDK against DynamoDB Local and the S3 stand-in.
 * DESIGN.md rules 2 (exactly once), 3 (UID order), 4 (modseq, no lost flag changes).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { AlreadyExistsError, InvalidInputError, QuotaExceededError } from '../../lib/core/errors.ts';
import { readMessage } from '../../lib/core/messageBody.ts';
import type { MailboxState, Storage } from '../../lib/core/ports.ts';
import { freshStorage } from '../support/storage.ts';

let storage: Storage;
let n = 0;
const account = () => `acct-${++n}-${Date.now()}`;

async function inbox(accountId: string): Promise<MailboxState> {
  await storage.mail.ensureDefaultMailboxes(accountId);
  return (await storage.mail.getMailbox(accountId, 'INBOX'))!;
}

async function appendText(accountId: string, mailboxId: string, text: string, extra: Record<string, unknown> = {}) {
  const key = `messages/${accountId}-${++n}`;
  const { size } = await storage.blobs.put(key, Buffer.from(text));
  return storage.mail.append({ accountId, mailboxId, blobKey: key, blobSize: size, ...extra });
}

before(async () => {
  storage = await freshStorage();
});

describe('mailboxes', () => {
  test('default mailboxes with RFC 6154 special-use, INBOX case-insensitive (RFC 3501 §5.1)', async () => {
    const a = account();
    const boxes = await storage.mail.ensureDefaultMailboxes(a);
    assert.deepEqual(
      boxes.map((b) => b.name),
      ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'],
    );
    assert.equal(boxes.find((b) => b.name === 'Junk')?.specialUse, '\\Junk');
    assert.equal((await storage.mail.getMailbox(a, 'inbox'))?.name, 'INBOX');
    // Idempotent.
    assert.equal((await storage.mail.ensureDefaultMailboxes(a)).length, 6);
  });

  test('create, duplicate refused, rename keeps messages and UIDs, delete', async () => {
    const a = account();
    const box = await storage.mail.createMailbox(a, 'Projects/2026');
    await assert.rejects(storage.mail.createMailbox(a, 'Projects/2026'), AlreadyExistsError);
    await appendText(a, box.mailboxId, 'Subject: x\r\n\r\nbody\r\n');
    await storage.mail.renameMailbox(a, 'Projects/2026', 'Archive/2026');
    assert.equal(await storage.mail.getMailbox(a, 'Projects/2026'), undefined);
    const renamed = (await storage.mail.getMailbox(a, 'Archive/2026'))!;
    assert.equal(renamed.mailboxId, box.mailboxId);
    assert.equal(renamed.uidNext, 2);
    await storage.mail.deleteMailbox(a, 'Archive/2026');
    assert.equal(await storage.mail.getMailbox(a, 'Archive/2026'), undefined);
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 0, messages: 0 });
  });

  test('UIDVALIDITY grows when a name is reused (RFC 3501 §2.3.1.1)', async () => {
    const a = account();
    const first = await storage.mail.createMailbox(a, 'Reused');
    await storage.mail.deleteMailbox(a, 'Reused');
    const second = await storage.mail.createMailbox(a, 'Reused');
    assert.ok(second.uidValidity > first.uidValidity);
    assert.notEqual(second.mailboxId, first.mailboxId);
  });

  test('names are data: empty levels, control characters and over-deep names are refused', async () => {
    const a = account();
    for (const bad of ['', 'a//b', '/a', 'a/', 'x\r\ny', 'x\x00', 'a/'.repeat(20) + 'a']) {
      await assert.rejects(storage.mail.createMailbox(a, bad), InvalidInputError, JSON.stringify(bad));
    }
    await assert.rejects(storage.mail.deleteMailbox(a, 'INBOX'), InvalidInputError);
  });

  test('subscription', async () => {
    const a = account();
    await storage.mail.createMailbox(a, 'Lists', { subscribed: false });
    assert.equal((await storage.mail.getMailbox(a, 'Lists'))?.subscribed, false);
    await storage.mail.setSubscribed(a, 'Lists', true);
    assert.equal((await storage.mail.getMailbox(a, 'Lists'))?.subscribed, true);
  });
});

describe('append', () => {
  test('allocates ascending UIDs and MODSEQs and updates counters', async () => {
    const a = account();
    const box = await inbox(a);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await appendText(a, box.mailboxId, `Subject: ${i}\r\n\r\nhi\r\n`));
    assert.deepEqual(
      results.map((r) => r.uid),
      [1, 2, 3],
    );
    assert.ok(results[0].modseq < results[1].modseq && results[1].modseq < results[2].modseq);
    const state = (await storage.mail.getMailboxById(a, box.mailboxId))!;
    assert.equal(state.uidNext, 4);
    assert.equal(state.messages, 3);
    assert.equal(state.highestModseq, results[2].modseq);
    assert.equal(state.bytes, (await storage.mail.getUsage(a)).bytes);
    const listed = await storage.mail.listMessages(box.mailboxId, { fromUid: 2, toUid: 3 });
    assert.deepEqual(
      listed.map((m) => m.uid),
      [2, 3],
    );
  });

  test('the header prefix is served before the blob, and sizes include it; ranged reads are exact', async () => {
    const a = account();
    const box = await inbox(a);
    const prefix = 'Return-Path: <x@y.example>\r\nDelivered-To: a@b.example\r\n';
    const body = 'Subject: ranged\r\n\r\n0123456789\r\n';
    const r = await appendText(a, box.mailboxId, body, { headerPrefix: prefix, flags: ['\\Seen'] });
    const meta = (await storage.mail.getMessage(box.mailboxId, r.uid))!;
    const whole = prefix + body;
    assert.equal(meta.size, Buffer.byteLength(whole));
    assert.deepEqual(meta.flags, ['\\Seen']);
    assert.equal((await readMessage(storage.blobs, meta)).toString(), whole);
    for (const [start, end] of [
      [0, 5],
      [10, prefix.length + 3],
      [prefix.length, prefix.length + 7],
      [prefix.length + 5, undefined],
      [meta.size - 1, meta.size + 100],
    ] as const) {
      const got = (await readMessage(storage.blobs, meta, { start, end })).toString();
      assert.equal(got, whole.slice(start, end === undefined ? undefined : end + 1), `${start}-${end}`);
    }
  });

  test('an append with the same idempotency key lands once (DESIGN.md rule 2)', async () => {
    const a = account();
    const box = await inbox(a);
    const first = await appendText(a, box.mailboxId, 'Subject: once\r\n\r\n', { idempotencyKey: 'msg-1' });
    const again = await Promise.all(
      [1, 2, 3].map(() => appendText(a, box.mailboxId, 'Subject: once\r\n\r\n', { idempotencyKey: 'msg-1' })),
    );
    assert.equal(first.duplicate, false);
    for (const r of again)
      assert.deepEqual({ uid: r.uid, duplicate: r.duplicate }, { uid: first.uid, duplicate: true });
    assert.equal((await storage.mail.listMessages(box.mailboxId)).length, 1);
    // The same key in another mailbox is another delivery.
    const junk = (await storage.mail.getMailbox(a, 'Junk'))!;
    assert.equal((await appendText(a, junk.mailboxId, 'x', { idempotencyKey: 'msg-1' })).duplicate, false);
  });

  test('concurrent idempotent appends of the same key create exactly one message', async () => {
    const a = account();
    const box = await inbox(a);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        appendText(a, box.mailboxId, 'Subject: race\r\n\r\n', { idempotencyKey: 'race-1' }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.uid)).size, 1);
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    assert.equal((await storage.mail.listMessages(box.mailboxId)).length, 1);
  });

  test('quota: an append past the quota fails and writes nothing', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'x'.repeat(600), { quotaBytes: 1000 });
    await assert.rejects(appendText(a, box.mailboxId, 'y'.repeat(600), { quotaBytes: 1000 }), QuotaExceededError);
    await assert.rejects(appendText(a, box.mailboxId, 'z'.repeat(2000), { quotaBytes: 1000 }), QuotaExceededError);
    assert.equal((await storage.mail.listMessages(box.mailboxId)).length, 1);
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 600, messages: 1 });
    assert.equal((await storage.mail.getMailboxById(a, box.mailboxId))?.uidNext, 2);
  });
});

describe('group commit (appendMany)', () => {
  const input = (a: string, mailboxId: string, extra: Record<string, unknown> = {}) => ({
    accountId: a,
    mailboxId,
    blobKey: 'messages/shared-batch',
    blobSize: 100,
    ...extra,
  });

  test('one transaction: consecutive UIDs, one new MODSEQ, one change record', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'first');
    const results = await storage.mail.appendMany(Array.from({ length: 5 }, () => input(a, box.mailboxId)));
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : assert.fail(String(r.reason))));
    assert.deepEqual(
      values.map((v) => v.uid),
      [2, 3, 4, 5, 6],
    );
    assert.equal(new Set(values.map((v) => v.modseq)).size, 1);
    const state = (await storage.mail.getMailboxById(a, box.mailboxId))!;
    assert.deepEqual([state.uidNext, state.messages, state.highestModseq], [7, 6, values[0].modseq]);
    const log = await storage.mail.changesSince(box.mailboxId, values[0].modseq - 1);
    assert.deepEqual(
      log.map((c) => [c.kind, c.uids]),
      [['append', [2, 3, 4, 5, 6]]],
    );
  });

  test('idempotency keys: earlier copies and repeats within the call resolve to one message each', async () => {
    const a = account();
    const box = await inbox(a);
    const earlier = await storage.mail.append(input(a, box.mailboxId, { idempotencyKey: 'k1' }));
    const results = await storage.mail.appendMany([
      input(a, box.mailboxId, { idempotencyKey: 'k1' }),
      input(a, box.mailboxId, { idempotencyKey: 'k2' }),
      input(a, box.mailboxId, { idempotencyKey: 'k2' }),
      input(a, box.mailboxId, { idempotencyKey: 'k3' }),
    ]);
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : assert.fail(String(r.reason))));
    assert.deepEqual(
      values.map((v) => [v.uid, v.duplicate]),
      [
        [earlier.uid, true],
        [2, false],
        [2, true],
        [3, false],
      ],
    );
    assert.equal((await storage.mail.listMessages(box.mailboxId)).length, 3);
  });

  test('quota: the messages that fit land, the rest are refused one by one', async () => {
    const a = account();
    const box = await inbox(a);
    const results = await storage.mail.appendMany(
      Array.from({ length: 4 }, () => input(a, box.mailboxId, { quotaBytes: 250 })),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof QuotaExceededError);
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 200, messages: 2 });
  });

  test('more than one transaction holds is split, in order', async () => {
    const a = account();
    const box = await inbox(a);
    const results = await storage.mail.appendMany(Array.from({ length: 70 }, () => input(a, box.mailboxId)));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.uid : 0)),
      Array.from({ length: 70 }, (_, i) => i + 1),
    );
  });

  test('inputs for different mailboxes are refused', async () => {
    const a = account();
    const box = await inbox(a);
    await assert.rejects(storage.mail.appendMany([input(a, box.mailboxId), input(a, 'other')]), InvalidInputError);
  });
});

describe('flags and modseq', () => {
  test('add, remove, replace; each change bumps MODSEQ; a no-op does not (RFC 7162 §3.1)', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'm1');
    await appendText(a, box.mailboxId, 'm2');
    const before = (await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    const added = await storage.mail.updateFlags(a, box.mailboxId, [1, 2], 'add', ['\\Seen', '$Label1']);
    assert.deepEqual(
      added.map((u) => u.flags),
      [
        ['$Label1', '\\Seen'],
        ['$Label1', '\\Seen'],
      ],
    );
    assert.ok(added.every((u) => u.modseq === before + 1));
    const noop = await storage.mail.updateFlags(a, box.mailboxId, [1, 2], 'add', ['\\Seen']);
    assert.deepEqual(noop, []);
    assert.equal((await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq, before + 1);
    const removed = await storage.mail.updateFlags(a, box.mailboxId, [1], 'remove', ['$Label1']);
    assert.deepEqual(removed[0].flags, ['\\Seen']);
    const replaced = await storage.mail.updateFlags(a, box.mailboxId, [2], 'replace', ['\\Flagged']);
    assert.deepEqual(replaced[0].flags, ['\\Flagged']);
    const cleared = await storage.mail.updateFlags(a, box.mailboxId, [1, 2, 99], 'replace', []);
    assert.deepEqual(
      cleared.map((u) => [u.uid, u.flags]),
      [
        [1, []],
        [2, []],
      ],
    );
    const changed = await storage.mail.listChangedSince(box.mailboxId, before + 1);
    assert.deepEqual(changed.map((m) => m.uid).sort(), [1, 2]);
    const log = await storage.mail.changesSince(box.mailboxId, before);
    assert.deepEqual(
      log.map((c) => c.kind),
      ['flags', 'flags', 'flags', 'flags'],
    );
  });

  test('concurrent flag changes from different sessions are never lost (DESIGN.md rule 4)', async () => {
    const a = account();
    const box = await inbox(a);
    for (let i = 0; i < 5; i++) await appendText(a, box.mailboxId, `m${i}`);
    const uids = [1, 2, 3, 4, 5];
    const flags = ['\\Seen', '\\Flagged', '\\Answered', '$A', '$B', '$C'];
    await Promise.all(flags.map((f) => storage.mail.updateFlags(a, box.mailboxId, uids, 'add', [f])));
    for (const m of await storage.mail.listMessages(box.mailboxId)) assert.deepEqual(m.flags, [...flags].sort());
    const modseqs = (await storage.mail.changesSince(box.mailboxId, 0)).map((c) => c.modseq);
    assert.equal(new Set(modseqs).size, modseqs.length, 'every change has its own modseq');
  });
});

describe('expunge', () => {
  test('removes messages, logs the expunge, gives back quota; UIDs are never reused', async () => {
    const a = account();
    const box = await inbox(a);
    for (let i = 0; i < 4; i++) await appendText(a, box.mailboxId, 'x'.repeat(100));
    const before = (await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    assert.deepEqual(await storage.mail.expunge(a, box.mailboxId, [2, 3, 42]), [2, 3]);
    assert.deepEqual(await storage.mail.expunge(a, box.mailboxId, [2]), []);
    assert.deepEqual(
      (await storage.mail.listMessages(box.mailboxId)).map((m) => m.uid),
      [1, 4],
    );
    const log = await storage.mail.changesSince(box.mailboxId, before);
    assert.deepEqual(
      log.map((c) => [c.kind, c.uids]),
      [['expunge', [2, 3]]],
    );
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 200, messages: 2 });
    const state = (await storage.mail.getMailboxById(a, box.mailboxId))!;
    assert.equal(state.messages, 2);
    assert.equal((await appendText(a, box.mailboxId, 'new')).uid, 5);
  });

  test('concurrent expunges of the same messages remove each once', async () => {
    const a = account();
    const box = await inbox(a);
    for (let i = 0; i < 6; i++) await appendText(a, box.mailboxId, 'y'.repeat(10));
    const results = await Promise.all([
      storage.mail.expunge(a, box.mailboxId, [1, 2, 3, 4]),
      storage.mail.expunge(a, box.mailboxId, [3, 4, 5]),
    ]);
    const all = results.flat().sort();
    assert.deepEqual(all, [1, 2, 3, 4, 5]);
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 10, messages: 1 });
  });
});
