/**
 * The header block of a submitted message: collected across any chunking as it streams, bounded, and read
 * for the From mailboxes (groups and encoded words), the count of From fields, and whether Date and Message-ID
 * are present (RFC 6409 §8); and the per-account hourly message rate (HourlyTokens).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HourlyTokens } from '../../lib/auth/hourlyTokens.ts';
import { HeaderBlockCollector, readHeaderFacts } from '../../lib/smtp/headerBlock.ts';

const HEADER =
  'From: =?utf-8?q?B=C3=B6b?= <bob@ours.test>\r\nSubject: x\r\nDate: Wed, 02 Dec 2026 12:00:00 +0000\r\n\r\n';
const TEXT = `${HEADER}body\r\n\r\nmore\r\n`;

describe('HeaderBlockCollector', () => {
  test('finds the blank line wherever the chunks split it', () => {
    for (let size = 1; size <= 7; size++) {
      const c = new HeaderBlockCollector(1024);
      for (let i = 0; i < TEXT.length; i += size) c.write(Buffer.from(TEXT.slice(i, i + size)));
      assert.ok(c.ended, `chunk size ${size}`);
      assert.equal(c.block.toString(), HEADER, `chunk size ${size}`);
    }
  });

  test('a message without a body is all header; an empty header is empty', () => {
    const c = new HeaderBlockCollector(1024);
    c.write(Buffer.from('From: bob@ours.test\r\n'));
    assert.equal(c.ended, false);
    assert.equal(c.block.toString(), 'From: bob@ours.test\r\n');
    const empty = new HeaderBlockCollector(1024);
    empty.write(Buffer.from('\r\nbody\r\n'));
    assert.ok(empty.ended);
    assert.equal(empty.block.length, 0);
  });

  test('past maxBytes without a blank line: overflow, and nothing more is kept', () => {
    const c = new HeaderBlockCollector(1024);
    for (let i = 0; i < 40; i++) c.write(Buffer.from(`X-Filler-${i}: ${'y'.repeat(40)}\r\n`));
    assert.ok(c.overflow);
    assert.equal(c.block.length, 0);
  });
});

describe('readHeaderFacts', () => {
  test('From mailboxes, decoded names aside; Date present, Message-ID missing', async () => {
    const facts = await readHeaderFacts(Buffer.from(HEADER));
    assert.deepEqual(facts, { fromFields: 1, fromAddresses: ['bob@ours.test'], hasDate: true, hasMessageId: false });
  });

  test('every mailbox of a list and of a group counts; a second From field is counted (mailparser keeps one)', async () => {
    const facts = await readHeaderFacts(
      Buffer.from('From: a@x.test, team: b@x.test, c@x.test;\r\nFrom: d@x.test\r\nMessage-ID: <1@x>\r\n\r\n'),
    );
    assert.equal(facts.fromFields, 2);
    assert.deepEqual(facts.fromAddresses, ['a@x.test', 'b@x.test', 'c@x.test']);
    assert.equal(facts.hasMessageId, true);
  });
});

describe('HourlyTokens (the submission rate)', () => {
  test('an hour holds perHour messages, refilled over the hour, per account', () => {
    const rate = new HourlyTokens(2, 100);
    const t0 = 1_000_000;
    assert.equal(rate.take('a', t0), 0);
    assert.equal(rate.take('a', t0), 0);
    assert.equal(rate.has('a', t0), false);
    assert.equal(rate.take('a', t0), 30 * 60_000, 'the wait until the next token');
    assert.equal(rate.has('b', t0), true);
    assert.equal(rate.has('a', t0 + 29 * 60_000), false);
    assert.equal(rate.has('a', t0 + 30 * 60_000), true, 'half an hour gives one message back');
  });
});
