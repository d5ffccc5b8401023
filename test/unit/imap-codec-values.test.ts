/** Sequence sets (RFC 9051 §9, RFC 5182), modified UTF-7 (RFC 3501 §5.1.3) and IMAP dates. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDateTime, parseDate, parseDateTime } from '../../lib/imap/codec/dates.ts';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../lib/imap/codec/mutf7.ts';
import {
  formatSequenceSet,
  formatUidList,
  parseSequenceSet,
  type ResolveContext,
  rangeNumbers,
  rangesContain,
  rangesCount,
  resolveSequenceSet,
  sequenceSetText,
} from '../../lib/imap/codec/sequenceSet.ts';

function resolve(text: string, ctx: Partial<ResolveContext> & { uid: boolean }) {
  const set = parseSequenceSet(text);
  assert.ok(set, text);
  return resolveSequenceSet(set, { count: 0, maxUid: 0, ...ctx });
}

describe('sequence sets: parsing', () => {
  it('parses numbers, ranges, * and $', () => {
    assert.deepEqual(parseSequenceSet('1,3:5,7:*'), {
      kind: 'ranges',
      ranges: [
        { start: 1, end: 1 },
        { start: 3, end: 5 },
        { start: 7, end: '*' },
      ],
    });
    assert.deepEqual(parseSequenceSet('$'), { kind: 'saved' });
    assert.equal(sequenceSetText(parseSequenceSet('5:2,*') ?? { kind: 'saved' }), '5:2,*');
  });

  for (const bad of [
    '',
    '0',
    '1:0',
    '0:*',
    ',1',
    '1,',
    '1,,2',
    '1::2',
    '1:2:3',
    '-1',
    'a',
    '1.5',
    '4294967296',
    '$,1',
    '01',
  ]) {
    it(`rejects ${JSON.stringify(bad)} (nz-number, RFC 9051 §9)`, () => assert.equal(parseSequenceSet(bad), null));
  }

  it('QRESYNC known UIDs allow neither * nor $ (RFC 7162 §3.2.5)', () => {
    assert.equal(parseSequenceSet('1:*', { allowStar: false }), null);
    assert.equal(parseSequenceSet('$', { allowSaved: false }), null);
  });
});

describe('sequence sets: resolution', () => {
  it('2:4 and 4:2 are the same (RFC 9051 §9 seq-range)', () => {
    assert.deepEqual(resolve('5:2', { uid: false, count: 10 }).ranges, [[2, 5]]);
    assert.deepEqual(resolve('2:5', { uid: false, count: 10 }).ranges, [[2, 5]]);
  });

  it('* is the number of messages; overlaps and neighbours merge', () => {
    assert.deepEqual(resolve('*,1:3,4,8:*', { uid: false, count: 9 }), {
      ranges: [
        [1, 4],
        [8, 9],
      ],
      outOfRange: false,
    });
  });

  it('* in an empty mailbox is out of range for message numbers (RFC 9051 §9)', () => {
    assert.deepEqual(resolve('1:*', { uid: false, count: 0 }), { ranges: [], outOfRange: true });
    assert.deepEqual(resolve('*', { uid: false, count: 0 }), { ranges: [], outOfRange: true });
  });

  it('a message number past the last message is out of range', () => {
    assert.deepEqual(resolve('3:7', { uid: false, count: 5 }), { ranges: [[3, 5]], outOfRange: true });
  });

  it('UID n:* with n past the last UID still includes the last message (RFC 9051 §6.4.8)', () => {
    assert.deepEqual(resolve('100:*', { uid: true, count: 3, maxUid: 50 }), { ranges: [[50, 50]], outOfRange: false });
  });

  it('UID sets are never out of range, and * on an empty mailbox matches nothing', () => {
    assert.deepEqual(resolve('1:*', { uid: true, count: 0, maxUid: 0 }), { ranges: [], outOfRange: false });
    assert.deepEqual(resolve('60:70', { uid: true, count: 3, maxUid: 50 }), { ranges: [], outOfRange: false });
  });

  it('$ is the saved result, empty when nothing was saved (RFC 5182 §2.1)', () => {
    assert.deepEqual(
      resolve('$', {
        uid: false,
        count: 10,
        saved: [
          [2, 3],
          [9, 12],
        ],
      }).ranges,
      [
        [2, 3],
        [9, 10],
      ],
    );
    assert.deepEqual(resolve('$', { uid: true, count: 10, maxUid: 20 }).ranges, []);
  });

  it('helpers: contain, count, numbers', () => {
    const ranges = resolve('1:3,7,10:12', { uid: false, count: 20 }).ranges;
    assert.deepEqual(
      [0, 1, 3, 4, 7, 9, 12, 13].map((n) => rangesContain(ranges, n)),
      [false, true, true, false, true, false, true, false],
    );
    assert.equal(rangesCount(ranges), 7);
    assert.deepEqual([...rangeNumbers(ranges)], [1, 2, 3, 7, 10, 11, 12]);
  });

  it('formats numbers compactly, sorted and merged', () => {
    assert.equal(formatSequenceSet([9, 1, 2, 3, 5, 6, 12]), '1:3,5:6,9,12');
    assert.equal(formatSequenceSet([]), '');
    assert.equal(
      formatSequenceSet([
        [4, 6],
        [1, 2],
        [3, 3],
      ]),
      '1:6',
    );
  });

  it('UIDPLUS lists keep their order (RFC 4315 §3)', () => {
    assert.equal(formatUidList([5, 6, 7, 3, 10, 11]), '5:7,3,10:11');
  });
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  const vectors: [string, string][] = [
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['INBOX', 'INBOX'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['☺!', '&Jjo-!'],
    ['😀', '&2D3eAA-'],
    ['a\u0001b', 'a&AAE-b'],
    ['', ''],
  ];
  for (const [name, wire] of vectors) {
    it(`${JSON.stringify(name)} <-> ${wire}`, () => {
      assert.equal(encodeModifiedUtf7(name), wire);
      assert.equal(decodeModifiedUtf7(wire), name);
    });
  }

  const invalid: [string, string][] = [
    ['&Jjo', 'unterminated'],
    ['&AGE-', 'encodes printable ASCII ("a")'],
    ['&2D3-', 'lone high surrogate'],
    ['&3gA-', 'lone low surrogate'],
    ['&U,BTF-', 'stray bits'],
    ['&U/BTFw-', '"/" instead of ","'],
    ['caf\u00e9', 'raw 8-bit'],
    ['&Jjo=-', 'padding'],
  ];
  for (const [wire, why] of invalid) {
    it(`rejects ${JSON.stringify(wire)}: ${why}`, () => assert.equal(decodeModifiedUtf7(wire), null));
  }
});

describe('IMAP dates (RFC 9051 §9 date, date-time)', () => {
  it('date with one- or two-digit day, any month case', () => {
    assert.deepEqual(parseDate('1-Feb-1994'), { year: 1994, month: 2, day: 1 });
    assert.deepEqual(parseDate('09-dec-2024'), { year: 2024, month: 12, day: 9 });
  });

  for (const bad of ['30-Feb-2024', '29-Feb-2023', '0-Jan-2024', '1-Foo-2024', '1-Jan-24', '1 Jan 2024', '']) {
    it(`rejects date ${JSON.stringify(bad)}`, () => assert.equal(parseDate(bad), null));
  }

  it('date-time with its zone', () => {
    const dt = parseDateTime('17-Jul-1996 02:44:25 -0700');
    assert.deepEqual(dt, { date: new Date('1996-07-17T09:44:25Z'), offsetMinutes: -420 });
    assert.deepEqual(parseDateTime(' 7-Jul-1996 02:44:25 +0000')?.date, new Date('1996-07-07T02:44:25Z'));
  });

  for (const bad of [
    '17-Jul-1996 24:00:00 +0000',
    '17-Jul-1996 02:44 +0000',
    '17-Jul-1996 02:44:25',
    '17-Jul-1996 02:44:25 +0070',
  ]) {
    it(`rejects date-time ${JSON.stringify(bad)}`, () => assert.equal(parseDateTime(bad), null));
  }

  it('formats date-time in UTC or a given zone, round-tripping', () => {
    const d = new Date('1996-07-17T09:44:25Z');
    assert.equal(formatDateTime(d), '17-Jul-1996 09:44:25 +0000');
    assert.equal(formatDateTime(d, -420), '17-Jul-1996 02:44:25 -0700');
    assert.equal(formatDateTime(new Date('2024-01-05T00:00:00Z'), 330), '05-Jan-2024 05:30:00 +0530');
    assert.deepEqual(parseDateTime(formatDateTime(d, 90))?.date, d);
  });
});
