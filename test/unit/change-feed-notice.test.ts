/** The notice codec and the stream-record reading of the notify relay (pure: no sockets, no tables). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noticesOfRecords } from '../../lib/storage/aws/changeFeedRelay.ts';
import {
  type ChangeNotice,
  coalesceNotices,
  decodeNotices,
  encodeNotices,
  MAX_DATAGRAM_BYTES,
} from '../../lib/storage/changeFeedNotice.ts';

const notice = (i: number, modseq = 1): ChangeNotice => ({
  accountId: `acct-${i}`,
  mailboxId: `01JMAILBOX${String(i).padStart(6, '0')}`,
  modseq,
  kind: 'append',
});

describe('change notices', () => {
  test('round trip, split into datagrams of at most MAX_DATAGRAM_BYTES, none lost', () => {
    const notices = Array.from({ length: 200 }, (_, i) => notice(i, i + 1));
    const datagrams = encodeNotices(notices);
    assert.ok(datagrams.length > 1);
    for (const d of datagrams) assert.ok(d.length <= MAX_DATAGRAM_BYTES, `${d.length} bytes`);
    assert.deepEqual(datagrams.flatMap(decodeNotices), notices);
  });

  test('a notice too large for a datagram on its own is left out, the others kept', () => {
    const huge = { ...notice(1), accountId: 'x'.repeat(MAX_DATAGRAM_BYTES) };
    assert.deepEqual(encodeNotices([notice(0), huge, notice(2)]).flatMap(decodeNotices), [notice(0), notice(2)]);
  });

  test('garbage, another version, and malformed entries decode to nothing', () => {
    assert.deepEqual(decodeNotices(Buffer.from('not json')), []);
    assert.deepEqual(decodeNotices(Buffer.from('{"v":2,"n":[["a","m",1,"append"]]}')), []);
    assert.deepEqual(
      decodeNotices(
        Buffer.from('{"v":1,"n":[["a","m",0,"append"],["a","m",1,"rename"],["","m",1,"flags"],["a","m",3,"flags"]]}'),
      ),
      [{ accountId: 'a', mailboxId: 'm', modseq: 3, kind: 'flags' }],
    );
  });

  test('coalescing keeps one notice per mailbox, the highest modseq', () => {
    const a = { accountId: 'a', mailboxId: 'm' };
    assert.deepEqual(
      coalesceNotices([
        { ...a, modseq: 4, kind: 'append' },
        { ...a, modseq: 6, kind: 'expunge' },
        { ...a, modseq: 5, kind: 'flags' },
        { accountId: 'b', mailboxId: 'm', modseq: 1, kind: 'append' },
      ]),
      [
        { ...a, modseq: 6, kind: 'expunge' },
        { accountId: 'b', mailboxId: 'm', modseq: 1, kind: 'append' },
      ],
    );
  });
});

describe('stream records of the changes table', () => {
  const image = (pk: string, modseq: number, kind: string) => ({
    mailboxId: { S: pk },
    modseq: { N: String(modseq) },
    kind: { S: kind },
    uids: { L: [{ N: '1' }] },
  });
  test('INSERTs become notices; REMOVE (TTL expiry), MODIFY and records without an image do not', () => {
    const notices = noticesOfRecords([
      { eventName: 'INSERT', dynamodb: { NewImage: image('acct#mbx', 3, 'append') } },
      { eventName: 'INSERT', dynamodb: { NewImage: image('acct#mbx', 4, 'flags') } },
      { eventName: 'REMOVE', dynamodb: {} },
      { eventName: 'MODIFY', dynamodb: { NewImage: image('acct#other', 9, 'append') } },
      { eventName: 'INSERT', dynamodb: {} },
      { eventName: 'INSERT', dynamodb: { NewImage: image('no-separator', 2, 'append') } },
    ]);
    assert.deepEqual(notices, [{ accountId: 'acct', mailboxId: 'mbx', modseq: 4, kind: 'flags' }]);
  });
});
