/**
 * MailStore RENAME and DELETE with inferior names (RFC 9051 §6.3.4, §6.3.6; INBOX rename per RFC 3501
 * §6.3.5), and removing an account's mail.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../lib/core/errors.ts';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

const names = async (a: string) => (await f.mail.listMailboxes(a)).map((m) => m.name);

describe('rename', () => {
  test('inferior names move with the mailbox; ids, messages and UIDs stay (RFC 9051 §6.3.6)', async () => {
    const a = f.account();
    const top = await f.mail.createMailbox(a, 'Work');
    const mid = await f.mail.createMailbox(a, 'Work/2026');
    const low = await f.mail.createMailbox(a, 'Work/2026/Q1');
    await f.mail.createMailbox(a, 'Workshop');
    await f.appendText(low, 'Subject: q1\r\n\r\n');
    await f.mail.renameMailbox(a, 'Work', 'Old/Work');
    assert.deepEqual(await names(a), ['Old/Work', 'Old/Work/2026', 'Old/Work/2026/Q1', 'Workshop']);
    assert.equal((await f.mail.getMailbox(a, 'Old/Work'))!.mailboxId, top.mailboxId);
    assert.equal((await f.mail.getMailbox(a, 'Old/Work/2026'))!.mailboxId, mid.mailboxId);
    const moved = (await f.mail.getMailbox(a, 'Old/Work/2026/Q1'))!;
    assert.deepEqual([moved.mailboxId, moved.uidValidity, moved.uidNext], [low.mailboxId, low.uidValidity, 2]);
    assert.equal(await f.mail.getMailbox(a, 'Work/2026'), undefined);
  });

  test('refused when any target name exists, or into itself; nothing changes', async () => {
    const a = f.account();
    await f.mail.createMailbox(a, 'A');
    await f.mail.createMailbox(a, 'A/x');
    await f.mail.createMailbox(a, 'B/x');
    await assert.rejects(f.mail.renameMailbox(a, 'A', 'B'), AlreadyExistsError, 'B/x is taken');
    await assert.rejects(f.mail.renameMailbox(a, 'A', 'A/x/y'), InvalidInputError);
    await assert.rejects(f.mail.renameMailbox(a, 'A', 'A'), AlreadyExistsError);
    await assert.rejects(f.mail.renameMailbox(a, 'Nope', 'C'), NotFoundError);
    assert.deepEqual(await names(a), ['A', 'A/x', 'B/x']);
  });

  test('INBOX: its messages move to a new mailbox, INBOX stays and is empty, its inferiors stay (RFC 3501 §6.3.5)', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    await f.mail.createMailbox(a, 'INBOX/Lists');
    await f.appendText(inbox, 'Subject: one\r\n\r\n', { flags: ['\\Seen'] });
    await f.appendText(inbox, 'Subject: two\r\n\r\n');
    await f.mail.renameMailbox(a, 'inbox', 'Old Inbox');
    const after = (await f.mail.getMailbox(a, 'INBOX'))!;
    assert.deepEqual(
      [after.mailboxId, after.uidValidity, after.messages, after.unseen],
      [inbox.mailboxId, inbox.uidValidity, 0, 0],
    );
    assert.ok(await f.mail.getMailbox(a, 'INBOX/Lists'), 'inferiors of INBOX are not renamed');
    const old = (await f.mail.getMailbox(a, 'Old Inbox'))!;
    assert.notEqual(old.mailboxId, inbox.mailboxId);
    assert.deepEqual(
      (await f.mail.listIndex(old)).map((e) => [e.uid, e.flags]),
      [
        [1, ['\\Seen']],
        [2, []],
      ],
    );
    assert.equal((await f.mail.getUsage(a)).messages, 2);
  });
});

describe('delete', () => {
  test('inferior names are not removed and stay reachable; the messages go with their usage (RFC 9051 §6.3.4)', async () => {
    const a = f.account();
    const parent = await f.mail.createMailbox(a, 'Projects');
    const child = await f.mail.createMailbox(a, 'Projects/Alpha');
    await f.appendText(parent, 'x'.repeat(100));
    await f.appendText(parent, 'y'.repeat(100));
    await f.appendText(child, 'z'.repeat(10));
    await f.mail.deleteMailbox(a, 'Projects');
    assert.deepEqual(await names(a), ['Projects/Alpha']);
    assert.equal(await f.mail.getMailboxById(a, parent.mailboxId), undefined);
    assert.deepEqual(await f.mail.listIndex(parent), []);
    assert.equal((await f.mail.listIndex(child)).length, 1);
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 10, messages: 1 });
    await assert.rejects(f.mail.append({ ...parent, blobKey: 'messages/late', blobSize: 1 }), NotFoundError);
    await assert.rejects(f.mail.updateFlags(parent, [1], 'add', ['\\Seen']), NotFoundError);
    await assert.rejects(f.mail.deleteMailbox(a, 'Projects'), NotFoundError);
  });

  test('a delete racing deliveries into the mailbox leaves no message and no usage behind', async () => {
    const a = f.account();
    const box = await f.mail.createMailbox(a, 'Busy');
    await f.appendText(box, 'first');
    const deliveries = Array.from({ length: 4 }, () =>
      f.mail.append({ ...box, blobKey: 'messages/busy', blobSize: 5 }).then(
        () => 'landed',
        (err) => (err instanceof NotFoundError ? 'refused' : Promise.reject(err)),
      ),
    );
    await Promise.all([f.mail.deleteMailbox(a, 'Busy'), ...deliveries]);
    assert.deepEqual(await f.mail.listIndex(box), []);
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 0, messages: 0 });
  });

  test('a deletion whose deleter died is finished by the next delete in the account', async () => {
    const a = f.account();
    const dead = await f.mail.createMailbox(a, 'Dead');
    await f.appendText(dead, 'abandoned');
    const other = await f.mail.createMailbox(a, 'Other');
    // what a crash right after hiding leaves: the name gone, the state marked long ago, the messages there
    const table = f.names.tables.mailboxes;
    await f.db.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: a }, sk: { S: 'NAME#Dead' } } }));
    await f.db.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: a }, sk: { S: `MBX#${dead.mailboxId}` } },
        UpdateExpression: 'SET deleting = :t',
        ExpressionAttributeValues: { ':t': { N: String(Date.now() - 3_600_000) } },
      }),
    );
    assert.equal((await f.mail.getUsage(a)).messages, 1);
    await f.mail.deleteMailbox(a, other.name);
    assert.deepEqual(await f.mail.listIndex(dead), []);
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 0, messages: 0 });
  });
});

describe('account removal', () => {
  test('deleteAccountMail removes every mailbox (INBOX too), message and counter', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    await f.appendText(inbox, 'Subject: bye\r\n\r\n', { idempotencyKey: 'k' });
    const keep = f.account();
    const kept = await f.inbox(keep);
    await f.appendText(kept, 'Subject: stays\r\n\r\n');
    await f.mail.deleteAccountMail(a);
    assert.deepEqual(await f.mail.listMailboxes(a), []);
    assert.deepEqual(await f.mail.listIndex(inbox), []);
    assert.deepEqual(await f.mail.getUsage(a), { bytes: 0, messages: 0 });
    assert.equal((await f.mail.listIndex(kept)).length, 1, 'other accounts are untouched');
  });
});

describe('subscriptions', () => {
  test('a deleted mailbox stays subscribed until UNSUBSCRIBE or a new mailbox of its name (RFC 3501 §6.3.6)', async () => {
    const a = f.account();
    await f.mail.createMailbox(a, 'Kept', { subscribed: true });
    await f.mail.createMailbox(a, 'Plain', { subscribed: false });
    await f.mail.deleteMailbox(a, 'Kept');
    await f.mail.deleteMailbox(a, 'Plain');
    assert.deepEqual(await f.mail.listDanglingSubscriptions(a), ['Kept']);
    assert.deepEqual(await names(a), []);
    // subscribing still needs a mailbox
    await assert.rejects(f.mail.setSubscribed(a, 'Plain', true), NotFoundError);
    // a new mailbox under the name takes the subscription over
    const again = await f.mail.createMailbox(a, 'Kept', { subscribed: false });
    assert.equal(again.subscribed, true);
    assert.deepEqual(await f.mail.listDanglingSubscriptions(a), []);
    await f.mail.deleteMailbox(a, 'Kept');
    await f.mail.setSubscribed(a, 'Kept', false);
    assert.deepEqual(await f.mail.listDanglingSubscriptions(a), []);
    await assert.rejects(f.mail.setSubscribed(a, 'Kept', false), NotFoundError);
    assert.equal((await f.mail.createMailbox(a, 'Kept', { subscribed: false })).subscribed, false);
  });

  test('removing the account removes its dangling subscriptions', async () => {
    const a = f.account();
    await f.mail.createMailbox(a, 'Gone', { subscribed: true });
    await f.mail.deleteMailbox(a, 'Gone');
    await f.mail.deleteAccountMail(a);
    assert.deepEqual(await f.mail.listDanglingSubscriptions(a), []);
  });
});

describe('\\Deleted counters', () => {
  test('move with appends, flag changes, copies, moves and expunges (IMAP STATUS DELETED, RFC 9208 DELETED-STORAGE)', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    const counted = async (name: string) => {
      const box = (await f.mail.getMailbox(a, name))!;
      return [box.deleted, box.deletedBytes];
    };
    await f.appendText(inbox, 'aaaa', { flags: ['\\Deleted'] });
    await f.appendText(inbox, 'bbbbbb');
    assert.deepEqual(await counted('INBOX'), [1, 4]);
    await f.mail.updateFlags(inbox, [2], 'add', ['\\Deleted', '\\Seen']);
    assert.deepEqual(await counted('INBOX'), [2, 10]);
    await f.mail.updateFlags(inbox, [1], 'remove', ['\\Deleted']);
    assert.deepEqual(await counted('INBOX'), [1, 6]);
    await f.mail.updateFlags(inbox, [2], 'replace', ['\\Seen']);
    assert.deepEqual(await counted('INBOX'), [0, 0]);
    await f.mail.updateFlags(inbox, [1, 2], 'add', ['\\Deleted']);
    const trash = (await f.mail.getMailbox(a, 'Trash'))!;
    await f.mail.copyMessages(inbox, [1, 2], trash);
    assert.deepEqual(await counted('Trash'), [2, 10]);
    const archive = (await f.mail.getMailbox(a, 'Archive'))!;
    await f.mail.moveMessages(inbox, [1], archive);
    assert.deepEqual(await counted('INBOX'), [1, 6]);
    assert.deepEqual(await counted('Archive'), [1, 4]);
    await f.mail.expunge(inbox, [2]);
    assert.deepEqual(await counted('INBOX'), [0, 0]);
    await f.mail.expunge(trash, [1]);
    assert.deepEqual(await counted('Trash'), [1, 6]);
  });
});
