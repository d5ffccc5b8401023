/**
 * MailStore getMailbox by name when another writer (another gateway task) renames, deletes and re-creates
 * mailboxes: a reader that looked the name up before always gets the mailbox that holds the name now (it
 * remembers the id it found, and checks the name the state item holds).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

test('a name renamed away and re-created elsewhere resolves to the new mailbox, the new name to the old', async () => {
  const a = f.account();
  const reader = f.writer();
  const other = f.writer();
  const first = await other.createMailbox(a, 'Projects');
  assert.equal((await reader.getMailbox(a, 'Projects'))?.mailboxId, first.mailboxId);
  await other.renameMailbox(a, 'Projects', 'Archive');
  assert.equal(await reader.getMailbox(a, 'Projects'), undefined, 'the name is free after the rename');
  const second = await other.createMailbox(a, 'Projects');
  assert.notEqual(second.mailboxId, first.mailboxId);
  assert.equal((await reader.getMailbox(a, 'Projects'))?.mailboxId, second.mailboxId);
  assert.equal((await reader.getMailbox(a, 'Archive'))?.mailboxId, first.mailboxId);
  await other.renameMailbox(a, 'Archive', 'Old');
  assert.equal(await reader.getMailbox(a, 'Archive'), undefined);
  assert.equal((await reader.getMailbox(a, 'Old'))?.name, 'Old');
});

test('a deleted mailbox is gone for a reader that knew it, and a new one of that name is found', async () => {
  const a = f.account();
  const reader = f.writer();
  const other = f.writer();
  const first = await other.createMailbox(a, 'Tmp');
  assert.equal((await reader.getMailbox(a, 'Tmp'))?.mailboxId, first.mailboxId);
  await other.deleteMailbox(a, 'Tmp');
  assert.equal(await reader.getMailbox(a, 'Tmp'), undefined);
  const second = await other.createMailbox(a, 'Tmp');
  assert.equal((await reader.getMailbox(a, 'Tmp'))?.mailboxId, second.mailboxId);
});

test('INBOX is found under any case (RFC 9051 §5.1) by a reader that knows it', async () => {
  const a = f.account();
  const inbox = await f.inbox(a);
  const reader = f.writer();
  for (const name of ['INBOX', 'inbox', 'InBox'])
    assert.equal((await reader.getMailbox(a, name))?.mailboxId, inbox.mailboxId);
});
