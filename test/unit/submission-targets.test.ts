/**
 * The delivery module's commit rule (lib/delivery/targets.ts, queueTarget.ts): accepted only when every
 * target committed; a full mailbox outranks a temporary failure; the blob counts as used when any target
 * holds it; and the queue target writes one entry per destination domain under the message's key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../lib/core/log.ts';
import { queueEntries, queueTarget } from '../../lib/delivery/queueTarget.ts';
import { commitToTargets } from '../../lib/delivery/targets.ts';
import type { AcceptedMessage, DeliveryTarget, TargetOutcome } from '../../lib/delivery/types.ts';
import { bodyTypeOf, type IncomingMessage } from '../../lib/smtp/receive.ts';
import { MemoryQueue } from '../support/memoryQueue.ts';

const message: AcceptedMessage = {
  messageId: 'M1',
  blobKey: 'messages/M1',
  blobSize: 100,
  mailFrom: 'bob@ours.test',
  idempotencyKey: 'k1',
  internalDate: 0,
};
const fixed = (outcome: TargetOutcome): DeliveryTarget => ({ name: 'fixed', commit: async () => outcome });
const committed = (blobUsed: boolean) => fixed({ kind: 'committed', blobUsed });

describe('commitToTargets', () => {
  test('every target committed: accepted; the blob is used when any target holds it', async () => {
    assert.deepEqual(await commitToTargets(message, [committed(false), committed(true)]), {
      kind: 'accepted',
      blobUsed: true,
    });
    assert.deepEqual(await commitToTargets(message, [committed(false), committed(false)]), {
      kind: 'accepted',
      blobUsed: false,
    });
  });

  test('one failure fails the message, quota before temporary, and the other targets still ran', async () => {
    let ran = 0;
    const counting: DeliveryTarget = {
      name: 'counting',
      commit: async () => {
        ran++;
        return { kind: 'committed', blobUsed: true };
      },
    };
    const temporary = fixed({ kind: 'failed', reason: 'temporary' });
    const quota = fixed({ kind: 'failed', reason: 'quota' });
    assert.deepEqual(await commitToTargets(message, [counting, temporary]), { kind: 'failed', reason: 'temporary' });
    assert.deepEqual(await commitToTargets(message, [temporary, quota, counting]), { kind: 'failed', reason: 'quota' });
    assert.equal(ran, 2);
  });
});

describe('queueTarget', () => {
  test('one entry per domain, recipients deduplicated, size counts the header prefix', () => {
    const entries = queueEntries(
      message,
      [
        { address: 'a@x.example', domain: 'x.example', notify: ['FAILURE'] },
        { address: 'b@y.example', domain: 'y.example' },
        { address: 'a@x.example', domain: 'x.example' },
      ],
      { headerPrefix: 'Date: now\r\n', envId: 'e', ret: 'HDRS', accountId: 'acc' },
    );
    assert.deepEqual(
      entries.map((e) => [e.domain, e.recipients.map((r) => r.address), e.size, e.envId, e.ret, e.accountId]),
      [
        ['x.example', ['a@x.example'], 111, 'e', 'HDRS', 'acc'],
        ['y.example', ['b@y.example'], 111, 'e', 'HDRS', 'acc'],
      ],
    );
    assert.notEqual(entries[0].id, entries[1].id);
  });

  test('the body type goes into every entry (RFC 6152 BODY=8BITMIME, RFC 6531 SMTPUTF8); 7-bit leaves none', () => {
    const to = [{ address: 'a@x.example', domain: 'x.example' }];
    const utf8 = bodyTypeOf({ smtpUtf8: true } as IncomingMessage);
    assert.deepEqual(utf8, { eightBit: true, smtpUtf8: true }, 'UTF-8 headers are 8-bit octets too');
    const [e] = queueEntries(message, to, { headerPrefix: '', ...utf8 });
    assert.deepEqual([e.eightBit, e.smtpUtf8], [true, true]);
    const plain = bodyTypeOf({ smtpUtf8: false, eightBit: false } as IncomingMessage);
    const [p] = queueEntries(message, to, { headerPrefix: '', ...plain });
    assert.ok(!('eightBit' in p) && !('smtpUtf8' in p));
  });

  test('a failed enqueue is a temporary failure; a duplicate does not use the blob and is not kicked', async () => {
    const queue = new MemoryQueue();
    let kicks = 0;
    const target = queueTarget(
      queue,
      [{ address: 'a@x.example', domain: 'x.example' }],
      { headerPrefix: '' },
      silentLogger,
      () => kicks++,
    );
    queue.failNext(1);
    assert.deepEqual(await target.commit(message), { kind: 'failed', reason: 'temporary' });
    assert.deepEqual(await target.commit(message), { kind: 'committed', blobUsed: true });
    assert.deepEqual(await target.commit(message), { kind: 'committed', blobUsed: false });
    assert.equal(queue.all().length, 1);
    assert.equal(kicks, 1);
  });
});
