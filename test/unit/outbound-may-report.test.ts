/**
 * mayReport (lib/outbound/runnerReport.ts): the runner reads a queue entry back after an attempt only when
 * that attempt can call for a DSN. It must never say no where outcomeReport would say yes (a report lost),
 * so each case is checked against outcomeReport on the entry as the attempt leaves it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueuedRecipient, QueueEntry, RecipientOutcome } from '../../lib/core/outbound.ts';
import { mayReport, outcomeReport } from '../../lib/outbound/runnerReport.ts';
import { ENTRY_CREATED, queueEntry } from '../support/queueEntries.ts';

const HOUR = 3_600_000;
const CREATED = ENTRY_CREATED;
const WARN = 4 * HOUR;

const entry = queueEntry;

const rcpt = (address: string, over: Partial<QueuedRecipient> = {}): QueuedRecipient => ({
  address,
  status: 'scheduled',
  attempts: 0,
  ...over,
});
const outcome = (address: string, result: RecipientOutcome['result']): RecipientOutcome => ({
  address,
  result,
  reply: result === 'delivered' ? '250 ok' : result === 'failed' ? '550 no' : '451 later',
});

/** The entry as the attempt leaves it: each recipient's status is its outcome. */
function after(before: QueueEntry, outcomes: readonly RecipientOutcome[], at: number): QueueEntry {
  const by = new Map(outcomes.map((o) => [o.address, o.result]));
  return {
    ...before,
    attempts: before.attempts + 1,
    recipients: before.recipients.map((r) => ({ ...r, status: by.get(r.address) ?? r.status, lastAttemptAt: at })),
  };
}

function check(before: QueueEntry, outcomes: RecipientOutcome[], at: number, expected: boolean) {
  const report = outcomeReport(before, after(before, outcomes, at), at, WARN, new Set());
  assert.equal(mayReport(before, outcomes, at, WARN), expected);
  if (report) assert.ok(expected, 'mayReport said no where a report is due');
}

test('a plain delivery (default NOTIFY) calls for no report: the entry is not read back', () => {
  check(entry([rcpt('bob@remote.test')]), [outcome('bob@remote.test', 'delivered')], CREATED + 1000, false);
});

test('a delivery with NOTIFY=SUCCESS may (RFC 3461 §5.2.2)', () => {
  const before = entry([rcpt('bob@remote.test', { notify: ['SUCCESS'] })]);
  check(before, [outcome('bob@remote.test', 'delivered')], CREATED + 1000, true);
});

test('a failure may, unless the sender is null (RFC 5321 §4.5.5: never a report on a report)', () => {
  check(entry([rcpt('bob@remote.test')]), [outcome('bob@remote.test', 'failed')], CREATED + 1000, true);
  const nullSender = entry([rcpt('bob@remote.test')], { mailFrom: '' });
  check(nullSender, [outcome('bob@remote.test', 'failed')], CREATED + 1000, false);
});

test('a deferral may only on the first attempt past the delay warning', () => {
  const early = entry([rcpt('bob@remote.test')]);
  check(early, [outcome('bob@remote.test', 'deferred')], CREATED + HOUR, false);
  const late = entry([rcpt('bob@remote.test', { status: 'deferred', attempts: 3, lastAttemptAt: CREATED + 3 * HOUR })]);
  check(late, [outcome('bob@remote.test', 'deferred')], CREATED + 5 * HOUR, true);
  const warned = entry([
    rcpt('bob@remote.test', { status: 'deferred', attempts: 4, lastAttemptAt: CREATED + 5 * HOUR }),
  ]);
  check(warned, [outcome('bob@remote.test', 'deferred')], CREATED + 6 * HOUR, false);
});
