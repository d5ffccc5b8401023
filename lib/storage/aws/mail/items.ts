/**
 * The transaction items every write is made of. Each change to a mailbox is one transaction holding its
 * mailbox item (HIGHESTMODSEQ conditioned on the value the writer started from: optimistic concurrency)
 * and exactly one change record at the new modseq, so the change log has one record per modseq and a gap
 * in it means history has expired.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvalidInputError } from '../../../core/errors.ts';
import type { ChangeKind, MailboxRef } from '../../../core/ports.ts';
import { type Item, toAttr } from '../dynamo.ts';
import type { CounterHint, MailContext } from './context.ts';
import { blobRefKey, CHANGE_TTL_SECONDS, isKeyword, MAX_KEYWORDS, mailboxKey, partitionOf, usageKey } from './keys.ts';

export interface MailboxBump {
  /** What the writer started from; the update is conditioned on its HIGHESTMODSEQ (and UIDNEXT when appending). */
  readonly prev: CounterHint;
  /** UIDs allocated from prev.uidNext. */
  readonly appended?: number;
  readonly messages?: number;
  readonly bytes?: number;
  readonly unseen?: number;
  /** Messages with \Deleted, and their bytes. */
  readonly deleted?: number;
  readonly deletedBytes?: number;
  /** Flags now set on some message; the keywords among them join the mailbox's keyword list. */
  readonly flags?: Iterable<string>;
  /** Purging a mailbox being deleted: the one writer allowed past the deleting mark. */
  readonly deleting?: boolean;
}

/** Keywords the bump adds to the mailbox's list; InvalidInputError when the list would outgrow its bound. */
export function newKeywords(prev: CounterHint, flags: Iterable<string> = []): string[] {
  const added = [...new Set(flags)].filter((f) => isKeyword(f) && !prev.keywords.has(f));
  if (added.length > 0 && prev.keywords.size + added.length > MAX_KEYWORDS) {
    throw new InvalidInputError(`a mailbox holds at most ${MAX_KEYWORDS} keywords`);
  }
  return added;
}

/** The hint after a bump committed: what the mailbox item now says. */
export function bumped(bump: MailboxBump): CounterHint {
  const { prev } = bump;
  return {
    uidNext: prev.uidNext + (bump.appended ?? 0),
    highestModseq: prev.highestModseq + 1,
    uidValidity: prev.uidValidity,
    keywords: new Set([...prev.keywords, ...newKeywords(prev, bump.flags)]),
  };
}

export function mailboxUpdate(ctx: MailContext, ref: MailboxRef, bump: MailboxBump): TransactWriteItem {
  const { prev } = bump;
  const values: Item = { ':m': prev.highestModseq + 1, ':prev': prev.highestModseq };
  const set = ['highestModseq = :m'];
  const add: string[] = [];
  const conditions = ['highestModseq = :prev'];
  const names: Record<string, string> = {};
  if (bump.appended) {
    set.push('uidNext = :next');
    conditions.push('uidNext = :uid');
    values[':next'] = prev.uidNext + bump.appended;
    values[':uid'] = prev.uidNext;
  }
  const { messages, bytes, unseen, deleted, deletedBytes } = bump;
  const counters = { messages, bytes, unseen, deleted, deletedBytes };
  for (const [name, delta] of Object.entries(counters)) {
    if (!delta) continue;
    add.push(`#${name} :${name}`);
    values[`:${name}`] = delta;
    names[`#${name}`] = name;
  }
  const keywords = newKeywords(prev, bump.flags);
  if (keywords.length > 0) {
    add.push('keywords :kw');
    values[':kw'] = new Set(keywords);
  }
  if (!bump.deleting) conditions.push('attribute_not_exists(deleting)');
  return {
    Update: {
      TableName: ctx.t.mailboxes,
      Key: toAttr(mailboxKey(ref.accountId, ref.mailboxId)),
      UpdateExpression: `SET ${set.join(', ')}${add.length ? ` ADD ${add.join(', ')}` : ''}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: toAttr(values),
    },
  };
}

export function changePut(
  ctx: MailContext,
  ref: MailboxRef,
  modseq: number,
  kind: ChangeKind,
  uids: readonly number[],
): TransactWriteItem {
  const item = { mailboxId: partitionOf(ref), modseq, kind, uids, expiresAt: ctx.epochSeconds() + CHANGE_TTL_SECONDS };
  return { Put: { TableName: ctx.t.changes, Item: toAttr(item) } };
}

/** A mailbox bump and its change record: the two items of every message change. */
export function mailboxChange(
  ctx: MailContext,
  tx: { add(role: string, item: TransactWriteItem): unknown },
  ref: MailboxRef,
  bump: MailboxBump,
  kind: ChangeKind,
  uids: readonly number[],
): void {
  tx.add(`mailbox:${partitionOf(ref)}`, mailboxUpdate(ctx, ref, bump));
  tx.add('change', changePut(ctx, ref, bump.prev.highestModseq + 1, kind, uids));
}

/**
 * The account's usage. `limit` is the most the usage may be before this change for it to fit the quota
 * (the condition); omitted: no quota.
 */
export function usageUpdate(
  ctx: MailContext,
  accountId: string,
  delta: { bytes: number; messages: number },
  limit?: number,
): TransactWriteItem {
  const quota = limit !== undefined && Number.isFinite(limit);
  return {
    Update: {
      TableName: ctx.t.mailboxes,
      Key: toAttr(usageKey(accountId)),
      UpdateExpression: 'ADD #b :b, messages :n',
      ConditionExpression: quota ? 'attribute_not_exists(#b) OR #b <= :limit' : undefined,
      ExpressionAttributeNames: { '#b': 'bytes' },
      ExpressionAttributeValues: toAttr({
        ':b': delta.bytes,
        ':n': delta.messages,
        ...(quota ? { ':limit': limit } : {}),
      }),
    },
  };
}

/**
 * One account's count of index items pointing at a blob. Each account has its own item, so the copies of
 * one delivery to many accounts never contend for one item; `since` remembers the first reference (the grace).
 */
export function blobRefUpdate(ctx: MailContext, blobKey: string, accountId: string, delta: number): TransactWriteItem {
  return {
    Update: {
      TableName: ctx.t.mailboxes,
      Key: toAttr(blobRefKey(blobKey, accountId)),
      UpdateExpression: delta > 0 ? 'ADD refs :d SET since = if_not_exists(since, :now)' : 'ADD refs :d',
      ExpressionAttributeValues: toAttr(delta > 0 ? { ':d': delta, ':now': ctx.now() } : { ':d': delta }),
    },
  };
}

/** Reference deltas per blob of the given messages: one item per blob even when several messages share it. */
export function blobDeltas(messages: readonly { blobKey: string }[], sign: 1 | -1): Map<string, number> {
  const deltas = new Map<string, number>();
  for (const m of messages) deltas.set(m.blobKey, (deltas.get(m.blobKey) ?? 0) + sign);
  return deltas;
}

export function addBlobRefs(
  ctx: MailContext,
  tx: { add(role: string, item: TransactWriteItem): unknown },
  accountId: string,
  deltas: ReadonlyMap<string, number>,
): void {
  for (const [blobKey, delta] of deltas) tx.add('blob', blobRefUpdate(ctx, blobKey, accountId, delta));
}

/** The size of an item as a transaction carries it, roughly (for the 4 MB bound). */
export const itemBytes = (item: Item) => JSON.stringify(item, (_, v) => (v instanceof Set ? [...v] : v)).length + 100;
