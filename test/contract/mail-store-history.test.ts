/**
 * The change log for catching up (IMAP IDLE, CONDSTORE/QRESYNC, RFC 7162): one record per modseq, and a
 * clear "history is gone" when records have expired, with a floor on the mailbox to fall back from.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { MailboxState } from '../../lib/core/ports.ts';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

/** A mailbox with an append (m+1), a flag change (m+2), an expunge (m+3) and another append (m+4). */
async function busy(): Promise<{ box: MailboxState; created: number }> {
  const a = f.account();
  const box = await f.inbox(a);
  const created = box.highestModseq;
  await f.appendText(box, 'one');
  await f.mail.updateFlags(box, [1], 'add', ['\\Seen']);
  await f.mail.expunge(box, [1]);
  await f.appendText(box, 'two');
  return { box, created };
}

/** What a TTL deletion does to one record. */
async function expire(box: MailboxState, modseq: number) {
  await f.db.send(
    new DeleteItemCommand({
      TableName: f.names.tables.changes,
      Key: { mailboxId: { S: `${box.accountId}#${box.mailboxId}` }, modseq: { N: String(modseq) } },
    }),
  );
}

describe('changesSince', () => {
  test('complete history: every change above the modseq, ascending, up to HIGHESTMODSEQ', async () => {
    const { box, created } = await busy();
    const all = await f.mail.changesSince(box, 0);
    assert.equal(all.complete, true);
    assert.deepEqual(
      all.changes.map((c) => [c.modseq - created, c.kind, c.uids]),
      [
        [1, 'append', [1]],
        [2, 'flags', [1]],
        [3, 'expunge', [1]],
        [4, 'append', [2]],
      ],
    );
    assert.equal(all.highestModseq, created + 4);
    const tail = await f.mail.changesSince(box, created + 2);
    assert.deepEqual(
      tail.changes.map((c) => c.kind),
      ['expunge', 'append'],
    );
    assert.deepEqual(await f.mail.changesSince(box, created + 4), {
      complete: true,
      changes: [],
      highestModseq: created + 4,
      historyFloor: 1,
    });
  });

  test('expired records: "history is gone" below them (RFC 7162 §3.2.5.1 fallback), the floor rises, history above stays', async () => {
    const { box, created } = await busy();
    await expire(box, created + 1);
    await expire(box, created + 3); // the expunge: a QRESYNC client from before it cannot learn of it
    const gone = await f.mail.changesSince(box, created);
    assert.deepEqual([gone.complete, gone.changes, gone.historyFloor], [false, [], created + 3]);
    assert.equal((await f.mail.getMailboxById(box.accountId, box.mailboxId))!.historyFloor, created + 3);
    // asked again from below the floor: answered from the floor alone
    assert.equal((await f.mail.changesSince(box, created + 2)).complete, false);
    const above = await f.mail.changesSince(box, created + 3);
    assert.equal(above.complete, true);
    assert.deepEqual(
      above.changes.map((c) => c.kind),
      ['append'],
    );
  });

  test('CHANGEDSINCE from the small index: the messages changed above a modseq, ascending by modseq', async () => {
    const a = f.account();
    const box = await f.inbox(a);
    for (let i = 0; i < 3; i++) await f.appendText(box, `m${i}`);
    const mark = (await f.mail.getMailboxById(a, box.mailboxId))!.highestModseq;
    await f.mail.updateFlags(box, [3], 'add', ['$A']);
    await f.mail.updateFlags(box, [1], 'add', ['$B']);
    const changed = await f.mail.listChangedSince(box, mark);
    assert.deepEqual(
      changed.map((e) => [e.uid, e.modseq - mark, e.flags]),
      [
        [3, 1, ['$A']],
        [1, 2, ['$B']],
      ],
    );
  });
});
