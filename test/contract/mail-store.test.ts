/**
 * MailStore contract, run through the real AWS SDK against DynamoDB Local and the S3 stand-in.
 * DESIGN.md rules 2 (exactly once), 3 (UID order), 4 (modseq, no lost flag changes).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { AlreadyExistsError, InvalidInputError, NotFoundError, QuotaExceededError } from '../../lib/core/errors.ts';
import { readMessage } from '../../lib/core/messageBody.ts';
import type { MailboxState, Storage } from '../../lib/core/ports.ts';
import type { MessageSummary } from '../../lib/mime/summary.ts';
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
    const listed = await storage.mail.listMessages(box, { fromUid: 2, toUid: 3 });
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
    const meta = (await storage.mail.getMessage(box, r.uid))!;
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
    assert.equal((await storage.mail.listMessages(box)).length, 1);
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
    assert.equal((await storage.mail.listMessages(box)).length, 1);
  });

  test('quota: an append past the quota fails and writes nothing', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'x'.repeat(600), { quotaBytes: 1000 });
    await assert.rejects(appendText(a, box.mailboxId, 'y'.repeat(600), { quotaBytes: 1000 }), QuotaExceededError);
    await assert.rejects(appendText(a, box.mailboxId, 'z'.repeat(2000), { quotaBytes: 1000 }), QuotaExceededError);
    assert.equal((await storage.mail.listMessages(box)).length, 1);
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
    const log = (await storage.mail.changesSince(box, values[0].modseq - 1)).changes;
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
    assert.equal((await storage.mail.listMessages(box)).length, 3);
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
    const added = (await storage.mail.updateFlags(box, [1, 2], 'add', ['\\Seen', '$Label1'])).updated;
    assert.deepEqual(
      added.map((u) => u.flags),
      [
        ['$Label1', '\\Seen'],
        ['$Label1', '\\Seen'],
      ],
    );
    assert.ok(added.every((u) => u.modseq === before + 1));
    const noop = await storage.mail.updateFlags(box, [1, 2], 'add', ['\\Seen']);
    assert.deepEqual(noop, { updated: [], modified: [] });
    assert.equal((await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq, before + 1);
    const removed = (await storage.mail.updateFlags(box, [1], 'remove', ['$Label1'])).updated;
    assert.deepEqual(removed[0].flags, ['\\Seen']);
    const replaced = (await storage.mail.updateFlags(box, [2], 'replace', ['\\Flagged'])).updated;
    assert.deepEqual(replaced[0].flags, ['\\Flagged']);
    const cleared = (await storage.mail.updateFlags(box, [1, 2, 99], 'replace', [])).updated;
    assert.deepEqual(
      cleared.map((u) => [u.uid, u.flags]),
      [
        [1, []],
        [2, []],
      ],
    );
    const changed = await storage.mail.listChangedSince(box, before + 1);
    assert.deepEqual(
      changed.map((m) => [m.uid, m.flags]),
      [
        [1, []],
        [2, []],
      ],
    );
    const log = (await storage.mail.changesSince(box, before)).changes;
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
    await Promise.all(flags.map((f) => storage.mail.updateFlags(box, uids, 'add', [f])));
    for (const m of await storage.mail.listMessages(box)) assert.deepEqual(m.flags, [...flags].sort());
    const modseqs = (await storage.mail.changesSince(box, 0)).changes.map((c) => c.modseq);
    assert.equal(new Set(modseqs).size, modseqs.length, 'every change has its own modseq');
    const state = (await storage.mail.getMailboxById(a, box.mailboxId))!;
    assert.equal(state.unseen, 0, 'the unseen counter followed the racing writers');
    assert.deepEqual(state.keywords, ['$A', '$B', '$C']);
  });

  test('UNCHANGEDSINCE: messages changed after it are MODIFIED and left alone, the rest change (RFC 7162 §3.1.3)', async () => {
    const a = account();
    const box = await inbox(a);
    for (let i = 0; i < 3; i++) await appendText(a, box.mailboxId, `m${i}`);
    const known = (await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    // another session changes message 2 after this one last synced
    await storage.mail.updateFlags(box, [2], 'add', ['$Other']);
    const result = await storage.mail.updateFlags(box, [1, 2, 3], 'add', ['\\Deleted'], { unchangedSince: known });
    assert.deepEqual(result.modified, [2]);
    assert.deepEqual(
      result.updated.map((u) => u.uid),
      [1, 3],
    );
    assert.deepEqual((await storage.mail.getMessage(box, 2))!.flags, ['$Other']);
    // a message that passes the test but would not change is neither updated nor modified
    const again = await storage.mail.updateFlags(box, [1], 'add', ['\\Deleted'], {
      unchangedSince: result.updated[0].modseq,
    });
    assert.deepEqual(again, { updated: [], modified: [] });
    // UNCHANGEDSINCE 0 fails for every message (each has a modseq)
    const zero = await storage.mail.updateFlags(box, [1, 3], 'remove', ['\\Deleted'], { unchangedSince: 0 });
    assert.deepEqual(zero, { updated: [], modified: [1, 3] });
  });

  test('UNCHANGEDSINCE racing a plain STORE: the conditional change applies only if it came first', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'm');
    const known = (await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    const [conditional] = await Promise.all([
      storage.mail.updateFlags(box, [1], 'add', ['$Cond'], { unchangedSince: known }),
      storage.mail.updateFlags(box, [1], 'add', ['$Plain']),
    ]);
    const flags = (await storage.mail.getMessage(box, 1))!.flags;
    assert.ok(flags.includes('$Plain'));
    if (conditional.modified.length === 1) assert.deepEqual(flags, ['$Plain']);
    else assert.deepEqual(flags, ['$Cond', '$Plain'], 'the conditional STORE went first');
  });

  test('the unseen counter moves with appends, flag changes and expunges (STATUS UNSEEN)', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'u1');
    await appendText(a, box.mailboxId, 's1', { flags: ['\\Seen'] });
    await storage.mail.appendMany(
      [1, 2, 3].map(() => ({ accountId: a, mailboxId: box.mailboxId, blobKey: 'messages/x', blobSize: 1 })),
    );
    const unseen = async () => (await storage.mail.getMailboxById(a, box.mailboxId))!.unseen;
    assert.equal(await unseen(), 4);
    await storage.mail.updateFlags(box, [1, 2, 3], 'add', ['\\Seen']);
    assert.equal(await unseen(), 2);
    await storage.mail.updateFlags(box, [2], 'replace', ['\\Flagged']);
    assert.equal(await unseen(), 3);
    await storage.mail.expunge(box, [2, 3]);
    assert.equal(await unseen(), 2);
    const listed = await storage.mail.listMessages(box);
    assert.equal(listed.filter((m) => !m.flags.includes('\\Seen')).length, 2);
  });

  test('keywords ever used are listed for PERMANENTFLAGS, and their number is bounded', async () => {
    const a = account();
    const box = await inbox(a);
    await appendText(a, box.mailboxId, 'k', { flags: ['$Junk', '\\Seen'] });
    await storage.mail.updateFlags(box, [1], 'add', ['$Work']);
    await storage.mail.updateFlags(box, [1], 'remove', ['$Work']);
    assert.deepEqual((await storage.mail.getMailboxById(a, box.mailboxId))!.keywords, ['$Junk', '$Work']);
    const many = Array.from({ length: 300 }, (_, i) => `kw${i}`);
    await assert.rejects(storage.mail.updateFlags(box, [1], 'add', many), InvalidInputError);
    assert.deepEqual((await storage.mail.getMessage(box, 1))!.flags, ['$Junk', '\\Seen']);
  });
});

describe('isolation (DESIGN.md rule 7)', () => {
  test('a mailbox id under another account addresses nothing', async () => {
    const owner = account();
    const intruder = account();
    const box = await inbox(owner);
    await inbox(intruder);
    await appendText(owner, box.mailboxId, 'Subject: private\r\n\r\n');
    const forged = { accountId: intruder, mailboxId: box.mailboxId };
    assert.equal(await storage.mail.getMessage(forged, 1), undefined);
    assert.deepEqual(await storage.mail.getMessages(forged, [1]), []);
    assert.deepEqual(await storage.mail.listMessages(forged), []);
    assert.deepEqual(await storage.mail.listIndex(forged), []);
    await assert.rejects(storage.mail.changesSince(forged, 0), NotFoundError);
    await assert.rejects(storage.mail.updateFlags(forged, [1], 'add', ['\\Deleted']), NotFoundError);
    await assert.rejects(storage.mail.expunge(forged, [1]), NotFoundError);
    const intruderInbox = (await storage.mail.getMailbox(intruder, 'INBOX'))!;
    assert.deepEqual((await storage.mail.copyMessages(forged, [1], intruderInbox)).sourceUids, []);
    assert.equal((await storage.mail.listMessages(box)).length, 1, "the owner's message is untouched");
  });
});

describe('index projection (SELECT of a big mailbox)', () => {
  test('listIndex holds only uid, modseq and flags, ascending by UID, and is current', async () => {
    const a = account();
    const box = await inbox(a);
    const summary = { v: 1, size: 1, headerSize: 1, lines: 0, hasAttachments: false } as unknown as MessageSummary;
    for (let i = 0; i < 4; i++) await appendText(a, box.mailboxId, `m${i}`, { summary, headerPrefix: 'X-A: b\r\n' });
    await storage.mail.updateFlags(box, [1], 'add', ['\\Seen']);
    await storage.mail.expunge(box, [3]);
    const index = await storage.mail.listIndex(box);
    assert.deepEqual(
      index.map((e) => [e.uid, e.flags]),
      [
        [1, ['\\Seen']],
        [2, []],
        [4, []],
      ],
    );
    for (const entry of index) assert.deepEqual(Object.keys(entry).sort(), ['flags', 'modseq', 'uid']);
    assert.ok(index[0].modseq > index[1].modseq, 'the flag change gave message 1 a new modseq');
  });
});

describe('expunge', () => {
  test('removes messages, logs the expunge, gives back quota; UIDs are never reused', async () => {
    const a = account();
    const box = await inbox(a);
    for (let i = 0; i < 4; i++) await appendText(a, box.mailboxId, 'x'.repeat(100));
    const before = (await storage.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    assert.deepEqual(await storage.mail.expunge(box, [2, 3, 42]), [2, 3]);
    assert.deepEqual(await storage.mail.expunge(box, [2]), []);
    assert.deepEqual(
      (await storage.mail.listMessages(box)).map((m) => m.uid),
      [1, 4],
    );
    const log = (await storage.mail.changesSince(box, before)).changes;
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
    const results = await Promise.all([storage.mail.expunge(box, [1, 2, 3, 4]), storage.mail.expunge(box, [3, 4, 5])]);
    const all = results.flat().sort();
    assert.deepEqual(all, [1, 2, 3, 4, 5]);
    assert.deepEqual(await storage.mail.getUsage(a), { bytes: 10, messages: 1 });
  });
});
