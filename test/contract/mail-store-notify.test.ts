/**
 * The ChangeNotifier port: the in-process fan-out on its own, then the MailStore publishing to it after
 * each commit, heard by a session that catches up from the change log (DESIGN.md rule 5, within a task).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailboxEvent } from '../../lib/core/ports.ts';
import { InProcessChangeNotifier } from '../../lib/storage/changeNotifier.ts';
import { mailFixture } from './mail-store-support.ts';

const change = (accountId: string, mailboxId: string, modseq: number): MailboxEvent => ({
  type: 'messages',
  accountId,
  change: { mailboxId, modseq, kind: 'append', uids: [modseq] },
});
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('InProcessChangeNotifier', () => {
  test('a mailbox subscriber hears its mailbox, an account subscriber every mailbox of the account, no one else', async () => {
    const notifier = new InProcessChangeNotifier();
    const heard: Record<string, number[]> = { box: [], account: [], other: [] };
    const record = (who: string) => (e: MailboxEvent) => heard[who].push(e.type === 'messages' ? e.change.modseq : -1);
    notifier.subscribe({ accountId: 'a', mailboxId: 'm1' }, record('box'));
    notifier.subscribe({ accountId: 'a' }, record('account'));
    notifier.subscribe({ accountId: 'b', mailboxId: 'm1' }, record('other'));
    notifier.publish(change('a', 'm1', 1));
    notifier.publish(change('a', 'm2', 2));
    notifier.publish({ type: 'mailbox', accountId: 'a', mailboxId: 'm1', name: 'X', what: 'renamed' });
    assert.deepEqual(heard.box, [], 'listeners run after the publisher returns');
    await settle();
    assert.deepEqual(heard, { box: [1, -1], account: [1, 2, -1], other: [] });
  });

  test('unsubscribe stops delivery; a throwing listener does not stop the others', async () => {
    const errors: unknown[] = [];
    const notifier = new InProcessChangeNotifier((err) => errors.push(err));
    const heard: number[] = [];
    const stop = notifier.subscribe({ accountId: 'a' }, () => heard.push(1));
    notifier.subscribe({ accountId: 'a' }, () => {
      throw new Error('broken session');
    });
    notifier.subscribe({ accountId: 'a', mailboxId: 'm' }, () => heard.push(2));
    notifier.publish(change('a', 'm', 1));
    await settle();
    stop();
    notifier.publish(change('a', 'm', 2));
    await settle();
    assert.deepEqual(heard.sort(), [1, 2, 2]);
    assert.equal(errors.length, 2);
    assert.equal(notifier.size, 2);
  });
});

describe('MailStore publishes its commits', () => {
  test('a session hears changes made by other writers and catches up from the change log', async () => {
    const notifier = new InProcessChangeNotifier();
    const f = await mailFixture({ notifier });
    const a = f.account();
    const inbox = await f.inbox(a);
    const archive = (await f.mail.getMailbox(a, 'Archive'))!;
    // the "session": subscribed to INBOX, knows the state it selected
    let known = inbox.highestModseq;
    const seen: string[] = [];
    const caughtUp: Promise<void>[] = [];
    notifier.subscribe(inbox, (event) => {
      assert.equal(event.type, 'messages');
      caughtUp.push(
        (async () => {
          // the commit is already visible when the event arrives
          const history = await f.mail.changesSince(inbox, known);
          assert.equal(history.complete, true);
          for (const c of history.changes) {
            if (c.modseq > known) seen.push(`${c.kind}:${c.uids.join(',')}`);
            known = Math.max(known, c.modseq);
          }
        })(),
      );
    });
    const archiveEvents: MailboxEvent[] = [];
    notifier.subscribe(archive, (e) => archiveEvents.push(e));
    const mailboxEvents: string[] = [];
    notifier.subscribe({ accountId: a }, (e) => {
      if (e.type === 'mailbox') mailboxEvents.push(`${e.what}:${e.name}`);
    });

    const delivery = f.writer(); // the store step, another writer on the same tables
    await delivery.append({ ...inbox, blobKey: 'messages/n1', blobSize: 5 });
    await f.mail.updateFlags(inbox, [1], 'add', ['\\Seen']);
    await delivery.append({ ...inbox, blobKey: 'messages/n2', blobSize: 5 });
    await f.mail.moveMessages(inbox, [2], archive);
    await f.mail.createMailbox(a, 'Lists');
    await f.mail.renameMailbox(a, 'Lists', 'Groups');
    await f.mail.deleteMailbox(a, 'Groups');
    await settle();
    await Promise.all(caughtUp);

    assert.deepEqual(seen, ['append:1', 'flags:1', 'append:2', 'expunge:2']);
    assert.equal(known, (await f.mail.getMailboxById(a, inbox.mailboxId))!.highestModseq);
    assert.deepEqual(
      archiveEvents.map((e) => (e.type === 'messages' ? [e.change.kind, e.change.uids] : e.type)),
      [['append', [1]]],
    );
    assert.deepEqual(mailboxEvents, ['created:Lists', 'renamed:Groups', 'deleted:Groups']);
  });
});
