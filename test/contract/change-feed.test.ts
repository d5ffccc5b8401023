/**
 * Push across tasks, through the real SDK on DynamoDB Local: presence records, the changes table's stream read
 * by the emulator's poller (as Lambda's event source mapping reads it), the notify function's relay, UDP
 * notices into a task's CrossTaskChangeNotifier, and the per-mailbox backstop.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailboxEvent } from '../../lib/core/ports.ts';
import { DynamoPresenceStore } from '../../lib/storage/aws/changeFeedPresence.ts';
import { listenForNotices } from '../../lib/storage/changeFeedUdp.ts';
import { CrossTaskChangeNotifier } from '../../lib/storage/crossTaskNotifier.ts';
import { startChangeStreamPoller } from '../../local/changeStreamPoller.ts';
import { testEndpoints } from '../support/storage.ts';
import { mailFixture } from './mail-store-support.ts';

/** Hang guard only: the push itself is measured in the e2e test. */
const GUARD_MS = 20_000;

function nextEvent(notifier: CrossTaskChangeNotifier, scope: { accountId: string; mailboxId: string }) {
  return new Promise<MailboxEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no event within the guard')), GUARD_MS);
    const stop = notifier.subscribe(scope, (event) => {
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

describe('gateway presence records', () => {
  test('live lists the records not yet expired; withdraw removes one', async () => {
    const f = await mailFixture();
    const presence = new DynamoPresenceStore(f.db, f.names, f.now);
    await presence.announce({ taskId: 'a', address: '10.0.0.1', port: 2600 }, 60_000);
    await presence.announce({ taskId: 'b', address: '10.0.0.2', port: 2600 }, 60_000);
    await presence.announce({ taskId: 'short', address: '10.0.0.3', port: 2600 }, 1_000);
    const later = new DynamoPresenceStore(f.db, f.names, () => f.now() + 5_000);
    assert.deepEqual((await later.live()).map((p) => p.taskId).sort(), ['a', 'b']);
    await presence.withdraw('a');
    assert.deepEqual(await later.live(), [{ taskId: 'b', address: '10.0.0.2', port: 2600 }]);
    // a refresh moves the expiry on
    await presence.announce({ taskId: 'short', address: '10.0.0.3', port: 2601 }, 60_000);
    assert.deepEqual((await later.live()).map((p) => `${p.taskId}:${p.port}`).sort(), ['b:2600', 'short:2601']);
  });
});

describe('change stream → notify relay → UDP notice → notifier', () => {
  test('a commit by another writer reaches an IDLE subscriber of this task; records of another mailbox do not', async (t) => {
    const f = await mailFixture();
    const notifier = new CrossTaskChangeNotifier();
    const listener = await listenForNotices('127.0.0.1', 0, (n) => notifier.receive(n));
    t.after(() => listener.close());
    await new DynamoPresenceStore(f.db, f.names).announce(
      { taskId: 't1', address: '127.0.0.1', port: listener.port },
      60_000,
    );
    const poller = await startChangeStreamPoller({ endpoints: await testEndpoints(), names: f.names, db: f.db });
    t.after(() => poller.stop());

    const a = f.account();
    const inbox = await f.inbox(a);
    await f.mail.createMailbox(a, 'Other');
    const other = (await f.mail.getMailbox(a, 'Other'))!;
    const otherEvents: MailboxEvent[] = [];
    notifier.subscribe(other, (e) => otherEvents.push(e));

    const heard = nextEvent(notifier, inbox);
    const { uid } = await f.appendText(inbox, 'Subject: x\r\n\r\nbody\r\n'); // f.mail has no notifier: only the stream tells
    const event = await heard;
    const state = (await f.mail.getMailboxById(a, inbox.mailboxId))!;
    assert.deepEqual(event, { type: 'modseq', accountId: a, mailboxId: inbox.mailboxId, modseq: state.highestModseq });

    const flagged = nextEvent(notifier, inbox);
    await f.mail.updateFlags(inbox, [uid], 'add', ['\\Seen']);
    assert.equal(((await flagged) as { modseq: number }).modseq, state.highestModseq + 1);
    assert.deepEqual(otherEvents, []);
    assert.equal(notifier.mailboxesInUse, 1);
  });

  test('a notice this task already published itself wakes nobody twice', async () => {
    const notifier = new CrossTaskChangeNotifier();
    const events: MailboxEvent[] = [];
    notifier.subscribe({ accountId: 'a', mailboxId: 'm' }, (e) => events.push(e));
    notifier.publish({
      type: 'messages',
      accountId: 'a',
      change: { mailboxId: 'm', modseq: 7, kind: 'append', uids: [3] },
    });
    notifier.receive([{ accountId: 'a', mailboxId: 'm', modseq: 7, kind: 'append' }]);
    notifier.receive([{ accountId: 'a', mailboxId: 'm', modseq: 6, kind: 'flags' }]);
    notifier.receive([{ accountId: 'a', mailboxId: 'm', modseq: 8, kind: 'flags' }]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      events.map((e) => e.type),
      ['messages', 'modseq'],
    );
  });
});

describe('backstop', () => {
  test('one read per mailbox in use finds a change whose notice was lost, once', async () => {
    const f = await mailFixture();
    const notifier = new CrossTaskChangeNotifier();
    const a = f.account();
    const inbox = await f.inbox(a);
    let reads = 0;
    const read = async (ref: { accountId: string; mailboxId: string }) => {
      reads += 1;
      return (await f.mail.getMailboxById(ref.accountId, ref.mailboxId))?.highestModseq;
    };
    const events: MailboxEvent[] = [];
    // three sessions idle on one mailbox: still one read per pass
    for (let i = 0; i < 3; i++) notifier.subscribe(inbox, (e) => events.push(e));
    await notifier.runBackstop(read); // first read: what this task knows starts here
    await new Promise((r) => setImmediate(r));
    events.length = 0;
    await f.appendText(inbox, 'Subject: y\r\n\r\nbody\r\n'); // no notice reaches this notifier
    await notifier.runBackstop(read);
    await notifier.runBackstop(read);
    await new Promise((r) => setImmediate(r));
    assert.equal(reads, 3);
    assert.equal(events.length, 3); // each of the three sessions woken once
    assert.equal((events[0] as { modseq: number }).modseq, inbox.highestModseq + 1);
  });
});
