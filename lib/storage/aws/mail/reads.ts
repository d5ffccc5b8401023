/**
 * Reads of messages and of the change log, all strongly consistent and all under the mailbox's partition
 * (`<accountId>#<mailboxId>`), so they only ever see the account's own mail.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../../core/errors.ts';
import type { ChangeHistory, ListOptions, MailboxRef, MessageIndexEntry, MessageMeta } from '../../../core/ports.ts';
import { type Item, isConditionFailure, toAttr } from '../dynamo.ts';
import type { MailContext } from './context.ts';
import { readMessages } from './expunge.ts';
import { mailboxKey, messageKey, partitionOf, toChange, toIndexEntry, toMessage } from './keys.ts';

const LIGHT = 'mailboxId, uid, modseq, blobKey, headerPrefix, #s, internalDate, flags';

export async function getMessage(ctx: MailContext, ref: MailboxRef, uid: number): Promise<MessageMeta | undefined> {
  const item = await ctx.getItem(ctx.t.messages, messageKey(ref, uid), 'message');
  return item ? toMessage(item) : undefined;
}

export async function getMessages(ctx: MailContext, ref: MailboxRef, uids: readonly number[]): Promise<MessageMeta[]> {
  return (await readMessages(ctx, ref, [...new Set(uids)])).map(toMessage);
}

export async function listMessages(ctx: MailContext, ref: MailboxRef, opts: ListOptions = {}): Promise<MessageMeta[]> {
  const items = await ctx.query(
    {
      TableName: ctx.t.messages,
      KeyConditionExpression: 'mailboxId = :m AND uid BETWEEN :a AND :b',
      ExpressionAttributeValues: toAttr({
        ':m': partitionOf(ref),
        ':a': opts.fromUid ?? 1,
        ':b': opts.toUid ?? Number.MAX_SAFE_INTEGER,
      }),
      ...(opts.projection === 'light'
        ? { ProjectionExpression: LIGHT, ExpressionAttributeNames: { '#s': 'size' } }
        : {}),
      ConsistentRead: true,
    },
    'message list',
  );
  return items.map(toMessage);
}

/**
 * The byModseq index, which holds only keys and flags. A listing that takes several pages may meet a
 * message twice (a flag change moved it to a later modseq meanwhile): the later sighting wins. It never
 * misses one that was there throughout, since modseqs only grow and pages follow them upwards.
 */
async function queryIndex(ctx: MailContext, ref: MailboxRef, above: number): Promise<MessageIndexEntry[]> {
  const items = await ctx.query(
    {
      TableName: ctx.t.messages,
      IndexName: 'byModseq',
      KeyConditionExpression: 'mailboxId = :m AND modseq > :s',
      ExpressionAttributeValues: toAttr({ ':m': partitionOf(ref), ':s': above }),
      // Not the partition key, which every item repeats: half the octets of a 10,000-message listing.
      ProjectionExpression: 'uid, modseq, flags',
      ConsistentRead: true,
    },
    'message index',
  );
  const latest = new Map<number, MessageIndexEntry>();
  for (const entry of items.map(toIndexEntry)) {
    const seen = latest.get(entry.uid);
    if (!seen || seen.modseq < entry.modseq) latest.set(entry.uid, entry);
  }
  return [...latest.values()];
}

export async function listIndex(ctx: MailContext, ref: MailboxRef): Promise<MessageIndexEntry[]> {
  return (await queryIndex(ctx, ref, 0)).sort((a, b) => a.uid - b.uid);
}

export async function listChangedSince(
  ctx: MailContext,
  ref: MailboxRef,
  modseq: number,
): Promise<MessageIndexEntry[]> {
  return (await queryIndex(ctx, ref, modseq)).sort((a, b) => a.modseq - b.modseq || a.uid - b.uid);
}

/** The highest modseq in (from, to] that has no record, or undefined when none is missing. */
function highestGap(records: readonly Item[], from: number, to: number): number | undefined {
  const present = new Set(records.map((r) => r.modseq as number));
  for (let m = to; m > from; m--) if (!present.has(m)) return m;
  return undefined;
}

/** Raises the mailbox's floor (never lowers it); losing a race to another raise is fine. */
async function raiseFloor(ctx: MailContext, ref: MailboxRef, floor: number): Promise<void> {
  try {
    await ctx.db.send(
      new UpdateItemCommand({
        TableName: ctx.t.mailboxes,
        Key: toAttr(mailboxKey(ref.accountId, ref.mailboxId)),
        UpdateExpression: 'SET historyFloor = :f',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(historyFloor) OR historyFloor < :f)',
        ExpressionAttributeValues: toAttr({ ':f': floor }),
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) ctx.opts.log?.warn('history floor update failed', { err });
  }
}

/**
 * Every modseq above the mailbox's first (1, its creation) has exactly one change record, written in the
 * same transaction that made the modseq. Records expire (TTL), so the records from `since` up to the
 * HIGHESTMODSEQ read first are complete exactly when none is missing. A gap raises the floor, so the next
 * caller asking from below it is answered without reading the log.
 */
export async function changesSince(ctx: MailContext, ref: MailboxRef, since: number): Promise<ChangeHistory> {
  const mailbox = await ctx.readMailbox(ref);
  if (!mailbox) throw new NotFoundError(`no mailbox ${ref.mailboxId}`);
  const { highestModseq, historyFloor } = mailbox;
  const from = Math.max(since, 1);
  if (from >= highestModseq) return { complete: true, changes: [], highestModseq, historyFloor };
  if (from < historyFloor) return { complete: false, changes: [], highestModseq, historyFloor };
  const records = await ctx.query(
    {
      TableName: ctx.t.changes,
      KeyConditionExpression: 'mailboxId = :m AND modseq BETWEEN :a AND :b',
      ExpressionAttributeValues: toAttr({ ':m': partitionOf(ref), ':a': from + 1, ':b': highestModseq }),
      ConsistentRead: true,
    },
    'change log',
  );
  const gap = highestGap(records, from, highestModseq);
  if (gap === undefined) return { complete: true, changes: records.map(toChange), highestModseq, historyFloor };
  await raiseFloor(ctx, ref, gap);
  return { complete: false, changes: [], highestModseq, historyFloor: Math.max(gap, historyFloor) };
}
