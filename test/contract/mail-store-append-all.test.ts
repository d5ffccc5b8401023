/**
 * MailStore.appendAll (RFC 3502 MULTIAPPEND) through the real SDK against DynamoDB Local: all messages in one
 * transaction or none, consecutive UIDs, the group's idempotency key with a short life, the transaction
 * limit refused up front, and the save date (RFC 8514) on append, copy and move.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { InvalidInputError, LimitExceededError, QuotaExceededError } from '../../lib/core/errors.ts';
import { type AppendInput, MAX_ATOMIC_APPEND, type MailboxRef } from '../../lib/core/ports.ts';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

const ref = (m: MailboxRef): MailboxRef => ({ accountId: m.accountId, mailboxId: m.mailboxId });

async function fresh() {
  const a = f.account();
  const inbox = ref(await f.inbox(a));
  const inputs = (n: number, extra: Partial<AppendInput> = {}): AppendInput[] =>
    Array.from({ length: n }, (_, i) => ({
      ...inbox,
      blobKey: `messages/${a}-${i}`,
      blobSize: 100,
      flags: i === 0 ? ['\\Seen', '$Multi'] : [],
      internalDate: 1_700_000_000_000 + i,
      ...extra,
    }));
  return { a, inbox, inputs };
}

describe('appendAll', () => {
  test('commits every message with consecutive UIDs, one modseq and one change record (RFC 3502 §3)', async () => {
    const { a, inbox, inputs } = await fresh();
    await f.appendText(inbox, 'Subject: before\r\n\r\n');
    const before = (await f.mail.getMailboxById(a, inbox.mailboxId))!;
    const results = await f.mail.appendAll(inputs(3));
    assert.deepEqual(
      results.map((r) => [r.uid, r.modseq, r.uidValidity, r.duplicate]),
      [2, 3, 4].map((uid) => [uid, before.highestModseq + 1, before.uidValidity, false]),
    );
    const state = (await f.mail.getMailboxById(a, inbox.mailboxId))!;
    assert.deepEqual([state.messages, state.uidNext, state.unseen, state.keywords], [4, 5, 3, ['$Multi']]);
    const log = (await f.mail.changesSince(inbox, before.highestModseq)).changes;
    assert.deepEqual(
      log.map((c) => [c.kind, c.uids]),
      [['append', [2, 3, 4]]],
    );
    const stored = await f.mail.getMessages(inbox, [2, 3, 4]);
    assert.deepEqual(
      stored.map((m) => [m.blobKey, m.internalDate]),
      inputs(3).map((i) => [i.blobKey, i.internalDate]),
    );
    assert.deepEqual((await f.mail.getUsage(a)).messages, 4);
  });

  test('over the quota together: none is stored, though each alone would fit', async () => {
    const { a, inbox, inputs } = await fresh();
    await assert.rejects(f.mail.appendAll(inputs(3, { quotaBytes: 250 })), QuotaExceededError);
    const state = (await f.mail.getMailboxById(a, inbox.mailboxId))!;
    assert.deepEqual([state.messages, state.uidNext], [0, 1]);
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 0, messages: 0 });
    // the usage already there counts too (the condition is checked in the transaction)
    await f.appendText(inbox, 'x'.repeat(100));
    await assert.rejects(f.mail.appendAll(inputs(2, { quotaBytes: 250 })), QuotaExceededError);
    assert.equal((await f.mail.getMailboxById(a, inbox.mailboxId))!.messages, 1);
    assert.equal((await f.mail.appendAll(inputs(1, { quotaBytes: 250 }))).length, 1);
  });

  test('more than one transaction can hold is refused before anything is written', async () => {
    const { a, inbox, inputs } = await fresh();
    await assert.rejects(f.mail.appendAll(inputs(MAX_ATOMIC_APPEND + 1)), LimitExceededError);
    assert.equal((await f.mail.getMailboxById(a, inbox.mailboxId))!.messages, 0);
    // the limit itself fits (3 + 2 per message + the key stays within 100 items, distinct blobs each)
    const all = await f.mail.appendAll(inputs(MAX_ATOMIC_APPEND), { idempotencyKey: 'k-max' });
    assert.equal(all.at(-1)!.uid, MAX_ATOMIC_APPEND);
    await assert.rejects(f.mail.appendAll([...inputs(1), { ...inputs(1)[0], mailboxId: 'other' }]), InvalidInputError);
  });

  test('forgetIdempotencyKey: the next append with the key makes new copies; other mailboxes keep theirs', async () => {
    const { a, inbox, inputs } = await fresh();
    await f.mail.appendAll(inputs(1), { idempotencyKey: 'f1', idempotencyTtlSeconds: 60 });
    const other = ref(await f.mail.createMailbox(a, 'Other'));
    await f.mail.appendAll([{ ...inputs(1)[0], ...other }], { idempotencyKey: 'f1', idempotencyTtlSeconds: 60 });
    await f.mail.forgetIdempotencyKey(inbox, 'f1');
    await f.mail.forgetIdempotencyKey(inbox, 'never-used');
    const next = await f.mail.appendAll(inputs(1), { idempotencyKey: 'f1', idempotencyTtlSeconds: 60 });
    assert.deepEqual([next[0].uid, next[0].duplicate], [2, false]);
    const kept = await f.mail.appendAll([{ ...inputs(1)[0], ...other }], { idempotencyKey: 'f1' });
    assert.deepEqual([kept[0].uid, kept[0].duplicate], [1, true]);
  });

  test('the group key: a retry gets the first results and stores nothing; past its life it appends again', async () => {
    const { a, inbox, inputs } = await fresh();
    const first = await f.mail.appendAll(inputs(2), { idempotencyKey: 'g1', idempotencyTtlSeconds: 60 });
    const again = await f.writer().appendAll(inputs(2), { idempotencyKey: 'g1', idempotencyTtlSeconds: 60 });
    assert.deepEqual(
      again,
      first.map((r) => ({ ...r, duplicate: true })),
    );
    assert.equal((await f.mail.getMailboxById(a, inbox.mailboxId))!.messages, 2);
    f.advance(61_000);
    const later = await f.mail.appendAll(inputs(2), { idempotencyKey: 'g1', idempotencyTtlSeconds: 60 });
    assert.deepEqual(
      later.map((r) => [r.uid, r.duplicate]),
      [
        [3, false],
        [4, false],
      ],
    );
  });

  test('two writers at once: both groups land whole, UIDs never interleave', async () => {
    const { a, inbox, inputs } = await fresh();
    const [x, y] = await Promise.all([f.mail.appendAll(inputs(5)), f.writer().appendAll(inputs(5))]);
    const firsts = [x[0].uid, y[0].uid].sort((p, q) => p - q);
    assert.deepEqual(firsts, [1, 6]);
    for (const group of [x, y])
      assert.deepEqual(
        group.map((r) => r.uid - group[0].uid),
        [0, 1, 2, 3, 4],
      );
    assert.equal((await f.mail.getMailboxById(a, inbox.mailboxId))!.messages, 10);
  });
});

describe('save date (RFC 8514)', () => {
  test('append, copy and move each stamp the time the copy arrived; internal date stays', async () => {
    const { a, inbox, inputs } = await fresh();
    const t0 = f.now();
    await f.mail.appendAll(inputs(2));
    const [m1] = await f.mail.getMessages(inbox, [1]);
    assert.ok(m1.savedAt! >= t0 && m1.savedAt! <= f.now(), 'saved now');
    f.advance(3_600_000);
    const archive = ref((await f.mail.getMailbox(a, 'Archive'))!);
    const trash = ref((await f.mail.getMailbox(a, 'Trash'))!);
    await f.mail.copyMessages(inbox, [1], archive);
    await f.mail.moveMessages(inbox, [2], trash);
    const [copy] = await f.mail.getMessages(archive, [1]);
    const [moved] = await f.mail.getMessages(trash, [1]);
    for (const m of [copy, moved]) {
      assert.ok(m.savedAt! >= t0 + 3_600_000, 'saved when it arrived');
      assert.ok(m.internalDate < t0, 'internal date kept');
    }
  });
});
