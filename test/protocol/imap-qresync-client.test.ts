/**
 * QRESYNC (RFC 7162 §3.2) with a client nobody here wrote: imapflow (`qresync: true`) against a whole
 * in-process gateway. It opens INBOX, goes away, another session flags, deletes and a message arrives; it
 * reconnects and resynchronises in the SELECT alone (VANISHED (EARLIER) and the changed messages' FETCH),
 * then hears a live expunge as VANISHED.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { deliverTo, imapflow } from './imap-support.ts';

const tg: TestGateway = await startTestGateway();

interface Expunged {
  readonly uid?: number;
  readonly vanished: boolean;
  readonly earlier?: boolean;
}
interface FlagsChanged {
  readonly uid?: number;
  readonly flags: Set<string>;
}

function flow(user: string, pass: string, qresync: boolean): ImapFlow {
  return imapflow(tg.port('imap'), { user, pass }, 'starttls', { qresync });
}

describe('QRESYNC with imapflow', () => {
  it('reconnects and resynchronises in SELECT after another session changed the mailbox, then hears VANISHED live', async () => {
    const user = `qr-${randomBytes(3).toString('hex')}@example.com`;
    const pass = `pw ${randomBytes(4).toString('hex')}`;
    const account = await tg.addAccount(user, pass);
    for (let i = 1; i <= 4; i++) {
      await deliverTo(tg.storage, account.accountId, Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`));
    }

    // first visit: what a client caches
    const first = flow(user, pass, true);
    await first.connect();
    assert.ok(first.capabilities.has('QRESYNC'));
    assert.ok(first.enabled.has('QRESYNC'), 'ENABLE QRESYNC accepted (RFC 7162 §3.2.3)');
    const opened = await first.mailboxOpen('INBOX');
    const uidValidity = opened.uidValidity;
    const highestModseq = opened.highestModseq;
    assert.ok(highestModseq);
    await first.logout();

    // meanwhile, another client without QRESYNC: \Seen on UID 2, UIDs 1 and 3 deleted, a new message
    const other = flow(user, pass, false);
    await other.connect();
    const lock = await other.getMailboxLock('INBOX');
    try {
      assert.equal(await other.messageFlagsAdd('2', ['\\Seen'], { uid: true }), true);
      assert.equal(await other.messageDelete('1,3', { uid: true }), true);
    } finally {
      lock.release();
    }
    await other.logout();
    await deliverTo(tg.storage, account.accountId, Buffer.from('Subject: new\r\n\r\nnew\r\n'));

    // back: the SELECT (QRESYNC (uidvalidity modseq)) tells it all
    const again = flow(user, pass, true);
    const expunged: Expunged[] = [];
    const changed: FlagsChanged[] = [];
    again.on('expunge', (e: Expunged) => expunged.push(e));
    again.on('flags', (e: FlagsChanged) => changed.push(e));
    await again.connect();
    try {
      const box = await again.mailboxOpen('INBOX', { uidValidity, changedSince: highestModseq });
      assert.equal((box as { qresync?: boolean }).qresync, true, 'the server took the QRESYNC parameter');
      assert.equal(box.exists, 3);
      assert.deepEqual(
        expunged.map((e) => [e.uid, e.vanished, e.earlier]),
        [
          [1, true, true],
          [3, true, true],
        ],
      );
      assert.deepEqual(
        changed.map((c) => [c.uid, [...c.flags]]),
        [
          [2, ['\\Seen']],
          [5, []],
        ],
      );
      assert.ok((box.highestModseq ?? 0n) > highestModseq);

      // live: another session expunges UID 4; the next command hears VANISHED, not EXPUNGE (§3.2.10.2)
      const third = flow(user, pass, false);
      await third.connect();
      await third.mailboxOpen('INBOX');
      assert.equal(await third.messageDelete('4', { uid: true }), true);
      await third.logout();
      expunged.length = 0;
      await again.noop();
      assert.deepEqual(
        expunged.map((e) => [e.uid, e.vanished, e.earlier]),
        [[4, true, false]],
      );
      assert.equal((again.mailbox as { exists: number }).exists, 2);
      const left = await again.search({ all: true }, { uid: true });
      assert.deepEqual(left, [2, 5]);
    } finally {
      await again.logout();
    }
  });
});
