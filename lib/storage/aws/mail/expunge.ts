import { NotFoundError, TemporaryError } from '../../../core/errors.ts';
import type { MailboxRef } from '../../../core/ports.ts';
import { backoff, type Item, temporary, toAttr } from '../dynamo.ts';
import { releaseBlobs } from './blobs.ts';
import { type CounterHint, hintOf, type MailContext, Transaction } from './context.ts';
import { addBlobRefs, blobDeltas, bumped, type MailboxBump, mailboxChange, usageUpdate } from './items.ts';
import {
  ascendingUnique,
  chunks,
  DELETED,
  flagsOf,
  MAX_ATTEMPTS,
  mailboxKey,
  messageKey,
  SEEN,
  toMailbox,
} from './keys.ts';

/** Per transaction: mailbox, change record and usage, then per message its delete and at most one blob count. */
export const EXPUNGE_CHUNK = 48;

/** The message items of those UIDs that exist (strongly consistent), ascending by UID. */
export async function readMessages(ctx: MailContext, ref: MailboxRef, uids: readonly number[]): Promise<Item[]> {
  const items = await ctx.batchGet(
    ctx.t.messages,
    uids.map((uid) => messageKey(ref, uid)),
    'message',
  );
  return items.sort((a, b) => (a.uid as number) - (b.uid as number));
}

/** What leaving a mailbox does to its counters and the account's usage. */
export function leaving(items: readonly Item[]) {
  const sum = (list: readonly Item[]) => list.reduce((total, m) => total + (m.size as number), 0);
  const unseen = items.filter((m) => !flagsOf(m).includes(SEEN)).length;
  const deleted = items.filter((m) => flagsOf(m).includes(DELETED));
  return { messages: items.length, bytes: sum(items), unseen, deleted: deleted.length, deletedBytes: sum(deleted) };
}

/** A delete that holds only while the message is as it was read (no flag change or expunge got in between). */
export function messageDelete(ctx: MailContext, item: Item) {
  return {
    Delete: {
      TableName: ctx.t.messages,
      Key: toAttr({ mailboxId: item.mailboxId, uid: item.uid }),
      ConditionExpression: 'modseq = :m',
      ExpressionAttributeValues: toAttr({ ':m': item.modseq }),
    },
  };
}

interface ExpungeOptions {
  /** Purging a mailbox that is being deleted: past its deleting mark, no change records read by anyone. */
  readonly purge?: boolean;
}

/** A purge reads the mailbox item itself (it is hidden from ordinary reads), never a hint. */
async function startingPoint(ctx: MailContext, ref: MailboxRef, opts: ExpungeOptions): Promise<CounterHint> {
  if (!opts.purge) return ctx.counters(ref);
  const item = await ctx.getItem(ctx.t.mailboxes, mailboxKey(ref.accountId, ref.mailboxId), 'mailbox');
  if (!item) throw new NotFoundError(`no mailbox ${ref.mailboxId}`);
  return hintOf(toMailbox(item));
}

/** Expunges one chunk: returns the UIDs removed and the blobs whose counts went down. */
async function expungeChunk(
  ctx: MailContext,
  ref: MailboxRef,
  uids: readonly number[],
  opts: ExpungeOptions,
): Promise<{ removed: number[]; blobs: string[] }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const prev = await startingPoint(ctx, ref, opts);
    const present = await readMessages(ctx, ref, uids);
    if (present.length === 0) return { removed: [], blobs: [] };
    const gone = leaving(present);
    const removed = present.map((m) => m.uid as number);
    const bump: MailboxBump = {
      prev,
      messages: -gone.messages,
      bytes: -gone.bytes,
      unseen: -gone.unseen,
      deleted: -gone.deleted,
      deletedBytes: -gone.deletedBytes,
      deleting: opts.purge,
    };
    const deltas = blobDeltas(present as { blobKey: string }[], -1);
    const tx = new Transaction();
    mailboxChange(ctx, tx, ref, bump, 'expunge', removed);
    tx.add('usage', usageUpdate(ctx, ref.accountId, { bytes: -gone.bytes, messages: -gone.messages }));
    for (const m of present) tx.add('message', messageDelete(ctx, m));
    addBlobRefs(ctx, tx, ref.accountId, deltas);
    try {
      await ctx.commit(tx);
      const after = bumped(bump);
      if (!opts.purge) {
        ctx.remember(ref, after);
        ctx.publish({
          type: 'messages',
          accountId: ref.accountId,
          change: { mailboxId: ref.mailboxId, modseq: after.highestModseq, kind: 'expunge', uids: removed },
        });
      }
      return { removed, blobs: [...deltas.keys()] };
    } catch (err) {
      ctx.forget(ref);
      if (!tx.failure(err)) throw temporary('expunge failed', err);
      // contention, a stale hint, or another session expunged or changed one of them: re-read and retry
      if (attempt > 0) await backoff(attempt);
    }
  }
  throw new TemporaryError('expunge: too much contention');
}

export async function expunge(
  ctx: MailContext,
  ref: MailboxRef,
  uids: readonly number[],
  opts: ExpungeOptions = {},
): Promise<number[]> {
  const removed: number[] = [];
  const lowered = new Set<string>();
  try {
    for (const chunk of chunks(ascendingUnique(uids), EXPUNGE_CHUNK)) {
      const done = await expungeChunk(ctx, ref, chunk, opts);
      removed.push(...done.removed);
      for (const key of done.blobs) lowered.add(key);
    }
  } finally {
    await releaseBlobs(ctx, lowered);
  }
  return removed;
}
