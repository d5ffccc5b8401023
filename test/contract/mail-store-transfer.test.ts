/**
 * MailStore COPY and MOVE through the real SDK against DynamoDB Local: UID maps for COPYUID (RFC 4315),
 * shared blobs, quota, chunked moves that never show a message twice or nowhere (RFC 6851 §3.3), and the
 * races that matter (move vs STORE, two copies into one mailbox, expunge vs copy).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { TransactGetItemsCommand } from '@aws-sdk/client-dynamodb';
import { InvalidInputError, QuotaExceededError } from '../../lib/core/errors.ts';
import type { MailboxRef, MessageMeta, UidMap } from '../../lib/core/ports.ts';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

const ref = (m: MailboxRef): MailboxRef => ({ accountId: m.accountId, mailboxId: m.mailboxId });

async function filled(count: number, size = 10) {
  const a = f.account();
  const inbox = await f.inbox(a);
  const archive = (await f.mail.getMailbox(a, 'Archive'))!;
  const inputs = Array.from({ length: count }, (_, i) => ({
    ...ref(inbox),
    blobKey: `messages/${a}-${i % 3}`,
    blobSize: size,
    flags: i % 2 === 0 ? ['\\Seen', '$Work'] : [],
    internalDate: 1_700_000_000_000 + i,
  }));
  for (const r of await f.mail.appendMany(inputs)) assert.equal(r.status, 'fulfilled');
  return { a, inbox: ref(inbox), archive: ref(archive) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('copy', () => {
  test('new UIDs ascend from UIDNEXT; flags, internal date, prefix and summary are kept; the blob is shared (RFC 4315)', async () => {
    const { a, inbox, archive } = await filled(4);
    await f.appendText(archive, 'Subject: already there\r\n\r\n');
    const before = await f.mail.getMessages(inbox, [1, 2, 3, 4]);
    const map = await f.mail.copyMessages(inbox, [4, 2, 99, 2], archive);
    const state = (await f.mail.getMailboxById(a, archive.mailboxId))!;
    assert.deepEqual(map, { uidValidity: state.uidValidity, sourceUids: [2, 4], destUids: [2, 3] });
    const copies = await f.mail.getMessages(archive, [2, 3]);
    for (const [i, copy] of copies.entries()) {
      const original: MessageMeta = before[map.sourceUids[i] - 1];
      assert.deepEqual(
        { ...copy, mailboxId: '', uid: 0, modseq: 0, savedAt: 0 },
        { ...original, mailboxId: '', uid: 0, modseq: 0, savedAt: 0 },
        'everything but the place, modseq and save date goes with the copy',
      );
    }
    assert.deepEqual([state.messages, state.uidNext, state.unseen], [3, 4, 3]);
    assert.deepEqual(state.keywords, []);
    const log = (await f.mail.changesSince(archive, state.highestModseq - 1)).changes;
    assert.deepEqual(
      log.map((c) => [c.kind, c.uids]),
      [['append', [2, 3]]],
    );
    assert.equal((await f.mail.listMessages(inbox)).length, 4, 'the source is untouched');
    assert.equal((await f.mail.getUsage(a)).messages, 7);
  });

  test('a copy into the mailbox it comes from makes duplicates with new UIDs', async () => {
    const { inbox } = await filled(2);
    const map = await f.mail.copyMessages(inbox, [1, 2], inbox);
    assert.deepEqual(
      [map.sourceUids, map.destUids],
      [
        [1, 2],
        [3, 4],
      ],
    );
    assert.equal((await f.mail.listIndex(inbox)).length, 4);
  });

  test("the destination account's quota: all or nothing, even across chunks", async () => {
    const { a, inbox } = await filled(40, 10); // usage 400
    const b = f.account();
    const other = ref(await f.inbox(b));
    // 32 fit a first chunk, the last 8 do not: the first chunk is taken back
    await assert.rejects(f.mail.copyMessages(inbox, range(1, 40), other, { quotaBytes: 350 }), QuotaExceededError);
    assert.deepEqual(await f.mail.listIndex(other), []);
    assert.deepEqual(await f.mail.getUsage(b), { bytes: 0, messages: 0 });
    const map = await f.mail.copyMessages(inbox, range(1, 40), other, { quotaBytes: 400 });
    assert.deepEqual(map.sourceUids, range(1, 40));
    assert.deepEqual(map.destUids, range(33, 72), 'UIDs taken by the rolled-back copy are not reused');
    assert.deepEqual(await f.mail.getUsage(b), { bytes: 400, messages: 40 });
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 400, messages: 40 });
  });

  test('two copies into one mailbox at once get distinct, ascending UIDs', async () => {
    const one = await filled(5);
    const target = one.archive;
    const [x, y] = await Promise.all([
      f.mail.copyMessages(one.inbox, range(1, 5), target),
      f.mail.copyMessages(one.inbox, range(1, 5), target),
    ]);
    for (const map of [x, y]) {
      assert.deepEqual(
        map.destUids,
        [...map.destUids].sort((p, q) => p - q),
      );
      assert.equal(map.destUids.length, 5);
    }
    assert.deepEqual(
      [...x.destUids, ...y.destUids].sort((p, q) => p - q),
      range(1, 10),
    );
    assert.equal((await f.mail.getMailboxById(one.a, target.mailboxId))!.uidNext, 11);
  });

  test('an expunge racing a copy: the copy has all of the messages or none, never a copy of a gone one', async () => {
    const { a, inbox, archive } = await filled(4);
    const [map, removed] = await Promise.all([
      f.mail.copyMessages(inbox, range(1, 4), archive),
      f.mail.expunge(inbox, range(1, 4)),
    ]);
    assert.deepEqual(removed, range(1, 4));
    assert.ok(map.destUids.length === 0 || map.destUids.length === 4, `copied ${map.destUids.length}`);
    const copies = await f.mail.listIndex(archive);
    assert.deepEqual(
      copies.map((e) => e.uid),
      map.destUids,
    );
    assert.equal((await f.mail.getUsage(a)).messages, copies.length);
  });
});

describe('move', () => {
  test('the source expunge and the destination append commit together (RFC 6851)', async () => {
    const { a, inbox, archive } = await filled(3);
    const usage = await f.mail.getUsage(a);
    const before = await f.mail.getMessages(inbox, [1, 2, 3]);
    const map = await f.mail.moveMessages(inbox, [1, 3], archive);
    assert.deepEqual(
      [map.sourceUids, map.destUids],
      [
        [1, 3],
        [1, 2],
      ],
    );
    assert.deepEqual(
      (await f.mail.listIndex(inbox)).map((e) => e.uid),
      [2],
    );
    const moved = await f.mail.getMessages(archive, [1, 2]);
    assert.deepEqual(
      moved.map((m) => [m.flags, m.internalDate, m.blobKey]),
      [before[0], before[2]].map((m) => [m.flags, m.internalDate, m.blobKey]),
    );
    const src = (await f.mail.getMailboxById(a, inbox.mailboxId))!;
    const dst = (await f.mail.getMailboxById(a, archive.mailboxId))!;
    assert.deepEqual([src.messages, src.unseen, src.bytes], [1, 1, 10]);
    assert.deepEqual([dst.messages, dst.unseen, dst.bytes], [2, 0, 20]);
    assert.deepEqual(dst.keywords, ['$Work']);
    assert.deepEqual(await f.mail.getUsage(a), usage, 'a move within an account does not change its usage');
    const srcLog = (await f.mail.changesSince(inbox, src.highestModseq - 1)).changes;
    assert.deepEqual(
      srcLog.map((c) => [c.kind, c.uids]),
      [['expunge', [1, 3]]],
    );
    await assert.rejects(f.mail.moveMessages(archive, [1], archive), InvalidInputError);
  });

  test('a big move goes in chunks, each a complete move: a snapshot reader never sees a message twice or nowhere', async () => {
    const { inbox, archive } = await filled(60);
    const sample = [1, 20, 48, 49, 60];
    // one TransactGetItems reads all these items as of one instant
    const keysOf = (box: MailboxRef, uid: number) => ({
      mailboxId: { S: `${box.accountId}#${box.mailboxId}` },
      uid: { N: String(uid) },
    });
    const snapshot = async () => {
      const out = await f.db.send(
        new TransactGetItemsCommand({
          TransactItems: sample.flatMap((uid) => [
            { Get: { TableName: f.names.tables.messages, Key: keysOf(inbox, uid) } },
            { Get: { TableName: f.names.tables.messages, Key: keysOf(archive, uid) } },
          ]),
        }),
      );
      return out.Responses!.map((r) => r.Item !== undefined);
    };
    let moving = true;
    const seen: boolean[][] = [];
    const reader = (async () => {
      while (moving) seen.push(await snapshot());
    })();
    const chunks: UidMap[] = [];
    const map = await f.mail.moveMessages(inbox, range(1, 60), archive, { onChunk: (c) => chunks.push(c) });
    moving = false;
    await reader;
    seen.push(await snapshot());
    assert.deepEqual(
      chunks.map((c) => c.sourceUids.length),
      [48, 12],
    );
    assert.deepEqual(map.destUids, range(1, 60));
    for (const view of seen) {
      for (let i = 0; i < sample.length; i++) {
        assert.notEqual(view[2 * i], view[2 * i + 1], `message ${sample[i]} is in exactly one mailbox`);
      }
    }
    assert.ok(seen.length >= 2);
  });

  test('a move racing a STORE on the same messages: each message lands once, and a flag change that was reported is kept', async () => {
    const { a, inbox, archive } = await filled(5);
    const [map, stored] = await Promise.all([
      f.mail.moveMessages(inbox, range(1, 5), archive),
      f.mail.updateFlags(inbox, range(1, 5), 'add', ['\\Flagged']),
    ]);
    assert.deepEqual(map.sourceUids, range(1, 5));
    assert.deepEqual(await f.mail.listIndex(inbox), []);
    const moved = await f.mail.listIndex(archive);
    assert.equal(moved.length, 5);
    for (const u of stored.updated) {
      const dest = map.destUids[map.sourceUids.indexOf(u.uid)];
      assert.ok(moved.find((m) => m.uid === dest)!.flags.includes('\\Flagged'), `message ${u.uid} kept its flag`);
    }
    assert.equal((await f.mail.getUsage(a)).messages, 5);
  });

  test("across accounts: both usages move, the destination's quota applies", async () => {
    const { a, inbox } = await filled(2, 10);
    const b = f.account();
    const other = ref(await f.inbox(b));
    await assert.rejects(f.mail.moveMessages(inbox, [1, 2], other, { quotaBytes: 15 }), QuotaExceededError);
    assert.equal((await f.mail.listIndex(inbox)).length, 2, 'nothing moved');
    await f.mail.moveMessages(inbox, [1, 2], other, { quotaBytes: 20 });
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 0, messages: 0 });
    assert.deepEqual(await f.mail.getUsage(b), { bytes: 20, messages: 2 });
  });
});
