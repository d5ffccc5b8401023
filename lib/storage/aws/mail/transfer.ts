/**
 * COPY and MOVE. A chunk is one transaction: for a copy, the destination's bump (new UIDs from its UIDNEXT,
 * ascending with the source UIDs) with its change record and usage, each new item, and a condition check
 * on each source item at the modseq it was read (so a copy never carries flags a concurrent STORE has
 * already replaced, and never copies a message an expunge already took); for a move, both mailboxes' bumps
 * and change records, the source deletes and the destination puts. Each chunk is therefore complete on its
 * own: a concurrent reader sees every message in exactly one mailbox, between chunks too. Copies share the
 * blob (only its count moves); flags, internal date, header prefix and summary go with the item.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvalidInputError, QuotaExceededError, TemporaryError } from '../../../core/errors.ts';
import type { CopyOptions, MailboxRef, MoveOptions, UidMap } from '../../../core/ports.ts';
import { backoff, type Item, temporary, toAttr } from '../dynamo.ts';
import { type CounterHint, type MailContext, Transaction } from './context.ts';
import { expunge, leaving, messageDelete, readMessages } from './expunge.ts';
import { addBlobRefs, blobDeltas, bumped, itemBytes, type MailboxBump, mailboxChange, usageUpdate } from './items.ts';
import { ascendingUnique, flagsOf, MAX_ATTEMPTS, MAX_TRANSACTION_BYTES, partitionOf, sameMailbox } from './keys.ts';

/** Destination bump, change record and usage (3), then per message its put, source check and blob count. */
const COPY_CHUNK = 32;
/** Within one account: two bumps and two change records (4), then per message its delete and its put. */
const MOVE_CHUNK = 48;
/** Across accounts, also both usages and per message both blob counts. */
const MOVE_CHUNK_ACROSS = 23;

/** The messages of a chunk that fit one transaction's bytes, and how many of the asked UIDs that settles. */
function fitting(present: readonly Item[], asked: readonly number[]): { fit: Item[]; consumed: number } {
  const fit: Item[] = [];
  let bytes = 0;
  for (const item of present) {
    const size = itemBytes(item);
    if (fit.length > 0 && bytes + size > MAX_TRANSACTION_BYTES) {
      return { fit, consumed: asked.indexOf(item.uid as number) };
    }
    fit.push(item);
    bytes += size;
  }
  return { fit, consumed: asked.length };
}

const putCopy = (ctx: MailContext, item: Item, to: MailboxRef, uid: number, modseq: number): TransactWriteItem => ({
  Put: {
    TableName: ctx.t.messages,
    // RFC 8514: the copy's save date is when it arrived in `to`.
    Item: toAttr({ ...item, mailboxId: partitionOf(to), uid, modseq, savedAt: ctx.now() }),
    ConditionExpression: 'attribute_not_exists(uid)',
  },
});

const sourceCheck = (ctx: MailContext, item: Item): TransactWriteItem => ({
  ConditionCheck: {
    TableName: ctx.t.messages,
    Key: toAttr({ mailboxId: item.mailboxId, uid: item.uid }),
    ConditionExpression: 'modseq = :m',
    ExpressionAttributeValues: toAttr({ ':m': item.modseq }),
  },
});

/** What arriving in the destination does to it, from the state the writer started from. */
function arrivingBump(prev: CounterHint, items: readonly Item[]): MailboxBump {
  const g = leaving(items);
  return {
    prev,
    appended: g.messages,
    messages: g.messages,
    bytes: g.bytes,
    unseen: g.unseen,
    deleted: g.deleted,
    deletedBytes: g.deletedBytes,
    flags: items.flatMap(flagsOf),
  };
}

/** The usage condition for arriving bytes: the most the usage may be before them (undefined: no quota). */
function arrivalLimit(opts: CopyOptions, bytes: number): number | undefined {
  if (!((opts.quotaBytes ?? 0) > 0)) return undefined;
  const limit = opts.quotaBytes! - bytes;
  if (limit < 0) throw new QuotaExceededError();
  return limit;
}

interface ChunkResult {
  readonly consumed: number;
  readonly map?: UidMap;
}

type ChunkAttempt = (attempt: number) => Promise<ChunkResult | undefined>;

/** Runs one chunk's attempts: undefined from an attempt means it lost a race and must read again. */
async function retried(what: string, run: ChunkAttempt): Promise<ChunkResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const result = await run(attempt);
    if (result) return result;
    if (attempt > 0) await backoff(attempt); // the first failure may just be a stale hint
  }
  throw new TemporaryError(`${what}: too much contention`);
}

/** A cancelled chunk: QuotaExceededError if the destination's usage refused it, else "try again". */
function afterCancel(tx: Transaction, err: unknown, what: string): undefined {
  const failure = tx.failure(err);
  if (!failure) throw temporary(`${what} failed`, err);
  if (failure.failed.has('usage')) throw new QuotaExceededError();
  return undefined;
}

async function copyChunk(
  ctx: MailContext,
  from: MailboxRef,
  asked: readonly number[],
  to: MailboxRef,
  opts: CopyOptions,
): Promise<ChunkResult> {
  return retried('copy', async () => {
    const dest = await ctx.counters(to);
    const { fit, consumed } = fitting(await readMessages(ctx, from, asked), asked);
    if (fit.length === 0) return { consumed };
    const bump = arrivingBump(dest, fit);
    const modseq = dest.highestModseq + 1;
    const destUids = fit.map((_, j) => dest.uidNext + j);
    const tx = new Transaction();
    mailboxChange(ctx, tx, to, bump, 'append', destUids);
    const delta = { bytes: bump.bytes!, messages: fit.length };
    tx.add('usage', usageUpdate(ctx, to.accountId, delta, arrivalLimit(opts, delta.bytes)));
    fit.forEach((item, j) => {
      tx.add('message', putCopy(ctx, item, to, destUids[j], modseq));
      tx.add('source', sourceCheck(ctx, item));
    });
    addBlobRefs(ctx, tx, to.accountId, blobDeltas(fit as { blobKey: string }[], 1));
    try {
      await ctx.commit(tx);
    } catch (err) {
      ctx.forget(to);
      return afterCancel(tx, err, 'copy');
    }
    ctx.remember(to, bumped(bump));
    ctx.publish({
      type: 'messages',
      accountId: to.accountId,
      change: { mailboxId: to.mailboxId, modseq, kind: 'append', uids: destUids },
    });
    const sourceUids = fit.map((m) => m.uid as number);
    return { consumed, map: { uidValidity: dest.uidValidity, sourceUids, destUids } };
  });
}

async function moveChunk(
  ctx: MailContext,
  from: MailboxRef,
  asked: readonly number[],
  to: MailboxRef,
  opts: CopyOptions,
): Promise<ChunkResult> {
  const acrossAccounts = from.accountId !== to.accountId;
  return retried('move', async () => {
    const source = await ctx.counters(from);
    const dest = await ctx.counters(to);
    const { fit, consumed } = fitting(await readMessages(ctx, from, asked), asked);
    if (fit.length === 0) return { consumed };
    const arriving = arrivingBump(dest, fit);
    const leavingBump: MailboxBump = {
      prev: source,
      messages: -fit.length,
      bytes: -arriving.bytes!,
      unseen: -arriving.unseen!,
      deleted: -arriving.deleted!,
      deletedBytes: -arriving.deletedBytes!,
    };
    const modseq = dest.highestModseq + 1;
    const sourceUids = fit.map((m) => m.uid as number);
    const destUids = fit.map((_, j) => dest.uidNext + j);
    const tx = new Transaction();
    mailboxChange(ctx, tx, from, leavingBump, 'expunge', sourceUids);
    mailboxChange(ctx, tx, to, arriving, 'append', destUids);
    fit.forEach((item, j) => {
      tx.add('message', messageDelete(ctx, item));
      tx.add('message', putCopy(ctx, item, to, destUids[j], modseq));
    });
    if (acrossAccounts) {
      const delta = { bytes: arriving.bytes!, messages: fit.length };
      tx.add('usage-source', usageUpdate(ctx, from.accountId, { bytes: -delta.bytes, messages: -delta.messages }));
      tx.add('usage', usageUpdate(ctx, to.accountId, delta, arrivalLimit(opts, delta.bytes)));
      addBlobRefs(ctx, tx, from.accountId, blobDeltas(fit as { blobKey: string }[], -1));
      addBlobRefs(ctx, tx, to.accountId, blobDeltas(fit as { blobKey: string }[], 1));
    }
    try {
      await ctx.commit(tx);
    } catch (err) {
      ctx.forget(from);
      ctx.forget(to);
      return afterCancel(tx, err, 'move');
    }
    const sourceAfter = bumped(leavingBump);
    ctx.remember(from, sourceAfter);
    ctx.remember(to, bumped(arriving));
    const accountId = from.accountId;
    ctx.publish({
      type: 'messages',
      accountId,
      change: { mailboxId: from.mailboxId, modseq: sourceAfter.highestModseq, kind: 'expunge', uids: sourceUids },
    });
    ctx.publish({
      type: 'messages',
      accountId: to.accountId,
      change: { mailboxId: to.mailboxId, modseq, kind: 'append', uids: destUids },
    });
    return { consumed, map: { uidValidity: dest.uidValidity, sourceUids, destUids } };
  });
}

/** Runs chunks over the ascending UIDs, handing each committed chunk's map to `done`. */
async function inChunks(
  uids: readonly number[],
  size: number,
  chunk: (asked: readonly number[]) => Promise<ChunkResult>,
  done: (map: UidMap) => void,
): Promise<void> {
  let queue = ascendingUnique(uids);
  while (queue.length > 0) {
    const asked = queue.slice(0, size);
    const result = await chunk(asked);
    if (result.map) done(result.map);
    queue = queue.slice(Math.max(1, result.consumed));
  }
}

function joined(maps: readonly UidMap[], uidValidity: number): UidMap {
  return {
    uidValidity,
    sourceUids: maps.flatMap((m) => m.sourceUids),
    destUids: maps.flatMap((m) => m.destUids),
  };
}

export async function copyMessages(
  ctx: MailContext,
  from: MailboxRef,
  uids: readonly number[],
  to: MailboxRef,
  opts: CopyOptions = {},
): Promise<UidMap> {
  const { uidValidity } = await ctx.counters(to);
  const maps: UidMap[] = [];
  try {
    await inChunks(
      uids,
      COPY_CHUNK,
      (asked) => copyChunk(ctx, from, asked, to, opts),
      (map) => maps.push(map),
    );
  } catch (err) {
    // All or nothing (RFC 9051 §6.4.7): take back the copies made so far; their UIDs are never reused.
    const made = maps.flatMap((m) => m.destUids);
    if (made.length > 0) {
      await expunge(ctx, to, made).catch((undo) =>
        ctx.opts.log?.error('copy rollback failed', { err: undo, accountId: to.accountId, mailboxId: to.mailboxId }),
      );
    }
    throw err;
  }
  return joined(maps, uidValidity);
}

export async function moveMessages(
  ctx: MailContext,
  from: MailboxRef,
  uids: readonly number[],
  to: MailboxRef,
  opts: MoveOptions = {},
): Promise<UidMap> {
  if (sameMailbox(from, to)) throw new InvalidInputError('cannot move messages into the mailbox they are in');
  await ctx.counters(from);
  const { uidValidity } = await ctx.counters(to);
  const size = from.accountId === to.accountId ? MOVE_CHUNK : MOVE_CHUNK_ACROSS;
  const maps: UidMap[] = [];
  await inChunks(
    uids,
    size,
    (asked) => moveChunk(ctx, from, asked, to, opts),
    (map) => {
      maps.push(map);
      opts.onChunk?.(map);
    },
  );
  return joined(maps, uidValidity);
}
