/**
 * The queue table's items (lib/core/schema.ts): how a QueueEntry is stored, and how an attempt changes it.
 * Pure functions, so the adapter (queue.ts) holds only the DynamoDB calls.
 */
import {
  type AttemptRecord,
  isPendingRecipient,
  type QueuedRecipient,
  type QueueEntry,
  type QueueEntryInput,
} from '../../core/outbound.ts';
import type { Item } from './dynamo.ts';

export const ENTRY_SK = 'ENTRY';
export const IDEM_SK = 'IDEM';
export const PENDING = 'PENDING';
export const DONE = 'DONE';

/** How long a finished entry stays for the operator (`admin queue list`) before its TTL removes it. */
export const FINISHED_RETENTION_SECONDS = 7 * 86_400;
/** How long an enqueue's idempotency key is remembered: longer than any client keeps retrying a submission. */
export const IDEMPOTENCY_TTL_SECONDS = 7 * 86_400;

/**
 * Longest reply and host name kept per recipient: a remote server chooses both (a multi-line reply can be any
 * length), and the entry item must stay far below DynamoDB's 400 KB with a hundred recipients.
 */
const MAX_REPLY = 1000;
const MAX_HOST = 255;
const bounded = (text: string | undefined, max: number) =>
  text === undefined || text.length <= max ? text : `${text.slice(0, max - 3)}...`;

export const entryKey = (id: string) => ({ pk: `Q#${id}`, sk: ENTRY_SK });
export const idemKey = (key: string) => ({ pk: `IDEM#${key}`, sk: IDEM_SK });

const isPending = isPendingRecipient;

/** The item of a new entry: every recipient scheduled, due at once. */
export function newEntryItem(input: QueueEntryInput, now: number): Item {
  const recipients: QueuedRecipient[] = input.recipients.map((r) => ({ ...r, status: 'scheduled', attempts: 0 }));
  const entry: QueueEntry = { ...input, recipients, createdAt: now, nextAttemptAt: now, attempts: 0 };
  return { ...entryKey(input.id), ...entry, state: PENDING, stateAt: now };
}

/** The entry an item holds (bookkeeping attributes left out). */
export function entryOf(item: Item): QueueEntry {
  const { pk: _pk, sk: _sk, state: _s, stateAt: _sa, owner: _o, claimUntil: _c, expiresAt: _e, ...entry } = item;
  return entry as unknown as QueueEntry;
}

/** The recipients after one attempt: each outcome sets its recipient's status, reply and attempt count. */
export function applyAttempt(recipients: readonly QueuedRecipient[], attempt: AttemptRecord): QueuedRecipient[] {
  const byAddress = new Map(attempt.outcomes.map((o) => [o.address, o]));
  return recipients.map((r) => {
    const outcome = byAddress.get(r.address);
    if (!outcome || !isPending(r)) return r;
    return {
      ...r,
      status: outcome.result,
      attempts: r.attempts + 1,
      lastReply: bounded(outcome.reply, MAX_REPLY),
      lastAttemptAt: attempt.at,
      remoteMta: bounded(outcome.remoteMta, MAX_HOST),
    };
  });
}

/** The attributes `complete` sets: recipients, counters, and where the entry now sits in the state index. */
export function completedAttributes(entry: QueueEntry, attempt: AttemptRecord): Item {
  const recipients = applyAttempt(entry.recipients, attempt);
  const pending = recipients.some(isPending);
  const nextAttemptAt = pending ? attempt.nextAttemptAt : attempt.at;
  return {
    recipients,
    attempts: entry.attempts + 1,
    nextAttemptAt,
    state: pending ? PENDING : DONE,
    stateAt: nextAttemptAt,
    expiresAt: pending ? undefined : Math.ceil(attempt.at / 1000) + FINISHED_RETENTION_SECONDS,
  };
}
