/**
 * When an attempt earns a DSN (lib/outbound/dsnPolicy.ts, RFC 3461 §6.2) and what reportOutcome hands the
 * SystemMailSender, with an in-memory sender that keeps one message per idempotency key (as the real one,
 * which enqueues through the idempotent queue, does). The reports are read back with Python's email.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type {
  AttemptRecord,
  QueuedRecipient,
  QueueEntry,
  RecipientOutcome,
  SystemMailSender,
} from '../../lib/core/outbound.ts';
import { crossesDelayWarning, DEFAULT_DELAY_WARNING_MS, planReports } from '../../lib/outbound/dsnPolicy.ts';
import { type ReportDeps, reportOutcome, sendRunnerReport } from '../../lib/outbound/dsnReport.ts';
import { readReturned } from '../../lib/outbound/dsnReturned.ts';
import { parseWithPython, recordingSender } from '../support/dsnCheck.ts';
import { ENTRY_CREATED, queuedRecipient, queueEntry } from '../support/queueEntries.ts';

const HOUR = 3_600_000;
const CREATED = ENTRY_CREATED;
const POLICY = { delayWarningMs: DEFAULT_DELAY_WARNING_MS, lifetimeMs: 5 * 24 * HOUR };
const MESSAGE = 'From: alice@example.org\r\nTo: bob@remote.test\r\nSubject: Report\r\n\r\nBody line\r\n';

const recipient = queuedRecipient;
const entry = (recipients: QueuedRecipient[], over: Partial<QueueEntry> = {}) =>
  queueEntry(recipients, { size: MESSAGE.length, ...over });

const failedOutcome = (address: string): RecipientOutcome => ({
  address,
  result: 'failed',
  reply: '550 5.1.1 User unknown',
  remoteMta: 'mx.remote.test',
});
const deferredOutcome = (address: string): RecipientOutcome => ({
  address,
  result: 'deferred',
  reply: '451 4.7.1 later',
});
const deliveredOutcome = (address: string, over: Partial<RecipientOutcome> = {}): RecipientOutcome => ({
  address,
  result: 'delivered',
  reply: '250 2.0.0 Ok: queued as 4XyZ',
  ...over,
});

function attempt(
  outcomes: RecipientOutcome[],
  at = CREATED + 60_000,
  over: Partial<AttemptRecord> = {},
): AttemptRecord {
  return { at, outcomes, nextAttemptAt: at + 600_000, ...over };
}

const actions = (e: QueueEntry, a: AttemptRecord) =>
  planReports(e, a, POLICY).map((r) => [r.recipient.address, r.action]);

describe('DSN policy: which recipients get a report (RFC 3461 §6.2)', () => {
  it('a failure is reported by default (NOTIFY absent = FAILURE,DELAY, §4.1) and with NOTIFY=FAILURE', () => {
    const e = entry([recipient('a@remote.test'), recipient('b@remote.test', { notify: ['FAILURE'] })]);
    assert.deepEqual(actions(e, attempt([failedOutcome('a@remote.test'), failedOutcome('b@remote.test')])), [
      ['a@remote.test', 'failed'],
      ['b@remote.test', 'failed'],
    ]);
  });

  it('NOTIFY=NEVER (the empty list) and NOTIFY=SUCCESS,DELAY get no failure report (§4.1)', () => {
    const e = entry([
      recipient('a@remote.test', { notify: [] }),
      recipient('b@remote.test', { notify: ['SUCCESS', 'DELAY'] }),
    ]);
    assert.deepEqual(actions(e, attempt([failedOutcome('a@remote.test'), failedOutcome('b@remote.test')])), []);
  });

  it('the null sender never gets a DSN, whatever NOTIFY says (§6.2, RFC 5321 §4.5.5)', () => {
    const e = entry([recipient('a@remote.test', { notify: ['SUCCESS', 'FAILURE', 'DELAY'] })], { mailFrom: '' });
    assert.deepEqual(actions(e, attempt([failedOutcome('a@remote.test')])), []);
    assert.deepEqual(actions(e, attempt([deliveredOutcome('a@remote.test')])), []);
    assert.deepEqual(actions(e, attempt([deferredOutcome('a@remote.test')], CREATED + 5 * HOUR)), []);
  });

  it('success with NOTIFY=SUCCESS: relayed past a next hop without DSN, none when it took DSN (§5.2.2)', () => {
    const e = entry([
      recipient('a@remote.test', { notify: ['SUCCESS'] }),
      recipient('b@remote.test', { notify: ['SUCCESS'] }),
      recipient('c@remote.test'),
    ]);
    const a = attempt([
      deliveredOutcome('a@remote.test'),
      deliveredOutcome('b@remote.test', { handedTo: 'dsn-relay' }),
      deliveredOutcome('c@remote.test'),
    ]);
    assert.deepEqual(actions(e, a), [['a@remote.test', 'relayed']]);
  });

  it("final delivery into a mailbox with NOTIFY=SUCCESS is 'delivered' (the return receipt, §5.2.2)", () => {
    const e = entry([recipient('a@example.org', { notify: ['SUCCESS'] })]);
    assert.deepEqual(actions(e, attempt([deliveredOutcome('a@example.org', { handedTo: 'mailbox' })])), [
      ['a@example.org', 'delivered'],
    ]);
  });

  it('a deferral earns a delay warning on the first attempt past the threshold (4 h by default), once', () => {
    const tried = (lastAttemptAt: number) =>
      entry([recipient('a@remote.test', { status: 'deferred', attempts: 3, lastAttemptAt })]);
    const before = tried(CREATED + 2 * HOUR);
    assert.deepEqual(actions(before, attempt([deferredOutcome('a@remote.test')], CREATED + 3 * HOUR)), []);
    const crossing = attempt([deferredOutcome('a@remote.test')], CREATED + 4 * HOUR + 1);
    assert.deepEqual(actions(before, crossing), [['a@remote.test', 'delayed']]);
    assert.equal(crossesDelayWarning(before, crossing.at, POLICY), true);
    const after = tried(CREATED + 4 * HOUR + 1);
    assert.deepEqual(actions(after, attempt([deferredOutcome('a@remote.test')], CREATED + 6 * HOUR)), []);
  });

  it('NOTIFY without DELAY gets no delay warning; the threshold is configurable', () => {
    const e = entry([
      recipient('a@remote.test', { notify: ['FAILURE'] }),
      recipient('b@remote.test', { notify: ['DELAY'] }),
    ]);
    const a = attempt([deferredOutcome('a@remote.test'), deferredOutcome('b@remote.test')], CREATED + 5 * HOUR);
    assert.deepEqual(actions(e, a), [['b@remote.test', 'delayed']]);
    const quick = { ...POLICY, delayWarningMs: 60_000 };
    assert.equal(crossesDelayWarning(e, CREATED + 61_000, quick), true);
    assert.equal(crossesDelayWarning(e, CREATED + 59_000, quick), false);
  });

  it('an outcome for a recipient no longer pending (already delivered or failed) is not reported again', () => {
    const e = entry([recipient('a@remote.test', { status: 'failed', attempts: 1 }), recipient('b@remote.test')]);
    assert.deepEqual(actions(e, attempt([failedOutcome('a@remote.test'), failedOutcome('b@remote.test')])), [
      ['b@remote.test', 'failed'],
    ]);
  });
});

function deps(sender: SystemMailSender, message = MESSAGE, over: Partial<ReportDeps> = {}): ReportDeps {
  let n = 0;
  return {
    hostname: 'mx.example.org',
    sender,
    openMessage: async () => Readable.from([Buffer.from(message)]),
    policy: POLICY,
    newId: () => `01JDSN${n++}`,
    now: () => CREATED + 5 * HOUR,
    ...over,
  };
}

describe('reportOutcome', () => {
  it('groups an entry’s recipients into one report to the envelope sender, read back by Python email', async () => {
    const sender = recordingSender();
    const e = entry(
      [recipient('a@remote.test'), recipient('b@remote.test', { notify: ['SUCCESS'], orcpt: 'rfc822;B@remote.test' })],
      {
        envId: 'ENV-7',
      },
    );
    await reportOutcome(e, attempt([failedOutcome('a@remote.test'), deliveredOutcome('b@remote.test')]), deps(sender));
    assert.equal(sender.sent.size, 1);
    const [{ recipient: to, text }] = sender.sent.values();
    assert.equal(to, 'alice@example.org');
    const view = parseWithPython(text);
    assert.equal(view.status[0]['Original-Envelope-Id'], 'ENV-7');
    assert.equal(Date.parse(view.status[0]['Arrival-Date']), CREATED);
    assert.deepEqual(
      view.status.slice(1).map((b) => [b['Final-Recipient'], b.Action, b['Original-Recipient']]),
      [
        ['rfc822;a@remote.test', 'failed', undefined],
        ['rfc822;b@remote.test', 'relayed', 'rfc822;B@remote.test'],
      ],
    );
    assert.equal(view.parts[2], 'text/rfc822-headers', 'headers only by default');
  });

  it('a retried runner pass sends the same report once (same idempotency key); another action gets another', async () => {
    const sender = recordingSender();
    const e = entry([recipient('a@remote.test')]);
    const a = attempt([failedOutcome('a@remote.test')]);
    const first = await reportOutcome(e, a, deps(sender));
    const again = await reportOutcome(e, a, deps(sender));
    assert.equal(first.idempotencyKey, again.idempotencyKey);
    assert.equal(sender.calls, 2);
    assert.equal(sender.sent.size, 1);
    const delayed = await reportOutcome(
      e,
      attempt([deferredOutcome('a@remote.test')], CREATED + 5 * HOUR),
      deps(sender),
    );
    assert.notEqual(delayed.idempotencyKey, first.idempotencyKey);
    assert.equal(sender.sent.size, 2);
  });

  it('nothing to report sends nothing', async () => {
    const sender = recordingSender();
    const result = await reportOutcome(
      entry([recipient('a@remote.test')]),
      attempt([deliveredOutcome('a@remote.test')]),
      deps(sender),
    );
    assert.equal(result.reports.length, 0);
    assert.equal(sender.calls, 0);
  });

  it('RET=FULL returns the message in a failure report, cut at the bound and saying so (RFC 3461 §4.3)', async () => {
    const sender = recordingSender();
    const big = `${MESSAGE}${'x'.repeat(70).concat('\r\n').repeat(2000)}`;
    const e = entry([recipient('a@remote.test')], { ret: 'FULL' });
    await reportOutcome(e, attempt([failedOutcome('a@remote.test')]), deps(sender, big, { returnedLimit: 16 * 1024 }));
    const view = parseWithPython([...sender.sent.values()][0].text);
    assert.equal(view.parts[2], 'message/rfc822');
    assert.equal(view.returnedSubject, 'Report');
    assert.ok((view.returned?.length ?? 0) <= 16 * 1024 + 200, `returned ${view.returned?.length}`);
    assert.match(view.human, /cut after the first 16 KiB/);
  });

  it('a delay warning returns only the headers even with RET=FULL, and says until when it retries', async () => {
    const sender = recordingSender();
    const e = entry([recipient('a@remote.test', { status: 'deferred', attempts: 5 })], { ret: 'FULL' });
    await reportOutcome(e, attempt([deferredOutcome('a@remote.test')], CREATED + 5 * HOUR), deps(sender));
    const view = parseWithPython([...sender.sent.values()][0].text);
    assert.equal(view.parts[2], 'text/rfc822-headers');
    assert.equal(view.status[1].Action, 'delayed');
    assert.equal(Date.parse(view.status[1]['Will-Retry-Until']), CREATED + POLICY.lifetimeMs);
    assert.match(view.headers.Subject, /Delayed/);
  });

  it('an unreadable message still gets its report, without the returned part', async () => {
    const sender = recordingSender();
    const failingOpen = async (): Promise<Readable> => {
      throw new Error('S3 down');
    };
    await reportOutcome(
      entry([recipient('a@remote.test')]),
      attempt([failedOutcome('a@remote.test')]),
      deps(sender, MESSAGE, { openMessage: failingOpen }),
    );
    const view = parseWithPython([...sender.sent.values()][0].text);
    assert.deepEqual(view.parts, ['text/plain', 'message/delivery-status']);
    assert.match(view.human, /not returned/);
  });
});

describe('sendRunnerReport (the queue runner’s own decision)', () => {
  const after = entry(
    [
      recipient('gaveup@remote.test', { status: 'failed', attempts: 30, lastReply: '451 4.4.1 No answer from host' }),
      recipient('slow@remote.test', { status: 'deferred', attempts: 5, lastReply: '421 4.7.0 busy' }),
      recipient('ok@remote.test', { status: 'delivered', attempts: 1, lastReply: '250 2.0.0 Ok', notify: ['SUCCESS'] }),
    ],
    { attempts: 30 },
  );
  const [gaveUp, slow, ok] = after.recipients;

  it('sends one report with its key: expired → failed 5.4.7 (RFC 3463 §3.5), delayed, relayed', async () => {
    const sender = recordingSender();
    const report = {
      entry: after,
      at: CREATED + 5 * HOUR,
      failed: [gaveUp],
      expired: [gaveUp.address],
      delayed: [slow],
      delivered: [ok],
      idempotencyKey: 'dsn:01JENTRY:30',
    };
    await sendRunnerReport(report, deps(sender));
    await sendRunnerReport(report, deps(sender));
    assert.deepEqual([...sender.sent.keys()], ['dsn:01JENTRY:30']);
    const view = parseWithPython(sender.sent.get('dsn:01JENTRY:30')!.text);
    assert.deepEqual(
      view.status.slice(1).map((b) => [b['Final-Recipient'], b.Action, b.Status]),
      [
        ['rfc822;gaveup@remote.test', 'failed', '5.4.7'],
        ['rfc822;slow@remote.test', 'delayed', '4.7.0'],
        ['rfc822;ok@remote.test', 'relayed', '2.0.0'],
      ],
    );
    assert.equal(view.status[1]['Diagnostic-Code'], 'smtp; 451 4.4.1 No answer from host');
  });

  it('sends nothing for an empty report or the null sender', async () => {
    const sender = recordingSender();
    const empty = {
      entry: after,
      at: CREATED,
      failed: [],
      expired: [],
      delayed: [],
      delivered: [],
      idempotencyKey: 'k1',
    };
    await sendRunnerReport(empty, deps(sender));
    await sendRunnerReport(
      { ...empty, entry: { ...after, mailFrom: '' }, failed: [gaveUp], idempotencyKey: 'k2' },
      deps(sender),
    );
    assert.equal(sender.calls, 0);
  });
});

describe('readReturned: bounded reads of the original', () => {
  /** A 40 MB message made on demand; counts what was pulled from it. */
  function hugeMessage(): { open: () => Promise<Readable>; pulled: () => number } {
    let pulled = 0;
    const open = async () =>
      Readable.from(
        (function* () {
          yield Buffer.from(MESSAGE);
          for (let i = 0; i < 640; i++) {
            pulled += 65536;
            yield Buffer.alloc(65536, 0x61);
          }
        })(),
      );
    return { open, pulled: () => pulled };
  }

  it('the headers of a 40 MB message cost one chunk, not the message', async () => {
    const huge = hugeMessage();
    const returned = await readReturned(huge.open, 'headers');
    assert.equal(returned.bytes.toString(), MESSAGE.slice(0, MESSAGE.indexOf('\r\n\r\n') + 2));
    assert.equal(returned.truncated, false);
    assert.ok(huge.pulled() <= 65536, `pulled ${huge.pulled()}`);
  });

  it('the full message is cut at the bound (64 KiB by default) and marked truncated', async () => {
    const huge = hugeMessage();
    const returned = await readReturned(huge.open, 'message');
    assert.ok(returned.bytes.length <= 64 * 1024 + 2, `${returned.bytes.length}`);
    assert.equal(returned.truncated, true);
    assert.ok(huge.pulled() <= 2 * 65536, `pulled ${huge.pulled()}`);
  });

  it('stops at the end of the header section when it straddles chunks, one octet each', async () => {
    let pulled = 0;
    const stream = Readable.from(
      (function* () {
        for (const b of Buffer.from('A: 1\r\n\r\n')) yield Buffer.from([b]);
        for (let i = 0; i < 640; i++) {
          pulled += 65536;
          yield Buffer.alloc(65536, 0x61);
        }
      })(),
    );
    const returned = await readReturned(async () => stream, 'headers');
    assert.equal(returned.bytes.toString(), 'A: 1\r\n');
    assert.equal(returned.truncated, false);
    assert.equal(pulled, 0, 'nothing read past the empty line');
  });

  it('a header section longer than the bound is cut at a line end', async () => {
    const headers = `${'X-Long: '.concat('y'.repeat(90), '\r\n').repeat(2000)}\r\nbody\r\n`;
    const returned = await readReturned(async () => Readable.from([Buffer.from(headers)]), 'headers', 4096);
    assert.equal(returned.truncated, true);
    assert.ok(returned.bytes.length <= 4096);
    assert.ok(returned.bytes.toString().endsWith('\r\n'));
  });
});
