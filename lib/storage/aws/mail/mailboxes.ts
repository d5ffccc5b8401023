/**
 * Mailboxes: the state item (MBX#id) holds the counters, the name item (NAME#name) points at it. A rename
 * moves name items only (ids, messages and UIDs stay); a delete first hides the mailbox (its name item goes
 * and the state item is marked deleting, in one transaction: it is gone at once for every reader and
 * writer), then purges its messages as expunges do (usage and blob counts move with them), then removes
 * the state item. A crash mid-purge leaves a hidden mailbox that the account's next delete finishes.
 */
import { BatchWriteItemCommand, DeleteItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { AlreadyExistsError, InvalidInputError, NotFoundError, TemporaryError } from '../../../core/errors.ts';
import { randomId } from '../../../core/ids.ts';
import { DEFAULT_MAILBOXES, HIERARCHY_DELIMITER, normalizeMailboxName } from '../../../core/mailboxNames.ts';
import type { MailboxRef, MailboxState } from '../../../core/ports.ts';
import { backoff, type Item, temporary, toAttr } from '../dynamo.ts';
import { type MailContext, Transaction } from './context.ts';
import { expunge } from './expunge.ts';
import {
  chunks,
  MAX_ATTEMPTS,
  mailboxKey,
  nameKey,
  refOf,
  SUBSCRIPTION_PREFIX,
  subscriptionKey,
  toMailbox,
  usageKey,
} from './keys.ts';
import { listIndex } from './reads.ts';
import { moveMessages } from './transfer.ts';

/** Per rename transaction: three items per mailbox. */
const RENAME_CHUNK = 33;
/** A deletion this old with its mark still there was interrupted (its deleter died): another delete resumes it. */
const STALE_DELETION_MS = 10 * 60 * 1000;

/** Every state item of the account, hidden (deleting) ones included. */
async function mailboxItems(ctx: MailContext, accountId: string): Promise<Item[]> {
  return ctx.query(
    {
      TableName: ctx.t.mailboxes,
      KeyConditionExpression: 'pk = :a AND begins_with(sk, :p)',
      ExpressionAttributeValues: toAttr({ ':a': accountId, ':p': 'MBX#' }),
      ConsistentRead: true,
    },
    'mailbox list',
  );
}

const byName = (a: MailboxState, b: MailboxState) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function listMailboxes(ctx: MailContext, accountId: string): Promise<MailboxState[]> {
  const items = await mailboxItems(ctx, accountId);
  return items
    .filter((i) => i.deleting === undefined)
    .map(toMailbox)
    .sort(byName);
}

/** Subscribed names whose mailbox was deleted (they stay subscribed until UNSUBSCRIBE or a new mailbox). */
export async function listDanglingSubscriptions(ctx: MailContext, accountId: string): Promise<string[]> {
  const items = await ctx.query(
    {
      TableName: ctx.t.mailboxes,
      KeyConditionExpression: 'pk = :a AND begins_with(sk, :p)',
      ExpressionAttributeValues: toAttr({ ':a': accountId, ':p': SUBSCRIPTION_PREFIX }),
      ConsistentRead: true,
    },
    'subscription list',
  );
  return items.map((i) => (i.sk as string).slice(SUBSCRIPTION_PREFIX.length)).sort();
}

/**
 * The mailbox of that name. The id this process last found for the name is tried first (one read instead of
 * two): a rename or delete changes the state item in the transaction that moves the name items, so a state
 * item that still holds the name (and is not being deleted) is the one the name item points at.
 */
export async function getMailbox(ctx: MailContext, accountId: string, name: string): Promise<MailboxState | undefined> {
  const normalized = normalizeMailboxName(name);
  const known = ctx.knownMailboxId(accountId, normalized);
  if (known) {
    const state = await ctx.readMailbox({ accountId, mailboxId: known });
    if (state?.name === normalized) return state;
  }
  const ref = await ctx.getItem(ctx.t.mailboxes, nameKey(accountId, normalized), 'mailbox');
  const state = ref ? await ctx.readMailbox({ accountId, mailboxId: ref.mailboxId as string }) : undefined;
  ctx.rememberMailboxId(accountId, normalized, state?.mailboxId);
  return state;
}

async function requireMailbox(ctx: MailContext, accountId: string, name: string): Promise<MailboxState> {
  const mailbox = await getMailbox(ctx, accountId, name);
  if (!mailbox) throw new NotFoundError(`no mailbox ${name}`);
  return mailbox;
}

/**
 * UIDVALIDITY must grow whenever a name is reused with fresh UIDs (RFC 3501 §2.3.1.1), so each account keeps
 * the last value it handed out and every new mailbox takes max(now in seconds, last + 1).
 */
export async function createMailbox(
  ctx: MailContext,
  accountId: string,
  input: string,
  opts: { specialUse?: string; subscribed?: boolean } = {},
): Promise<MailboxState> {
  const name = normalizeMailboxName(input);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const usage = await ctx.getItem(ctx.t.mailboxes, usageKey(accountId), 'usage');
    // A name still subscribed from a deleted mailbox makes the new one subscribed (subscriptions are by name).
    const dangling = await ctx.getItem(ctx.t.mailboxes, subscriptionKey(accountId, name), 'subscription');
    const last = (usage?.lastUidValidity as number | undefined) ?? 0;
    const uidValidity = Math.max(ctx.epochSeconds(), last + 1);
    const state: MailboxState = {
      accountId,
      mailboxId: randomId(),
      name,
      uidValidity,
      uidNext: 1,
      highestModseq: 1,
      messages: 0,
      unseen: 0,
      bytes: 0,
      deleted: 0,
      deletedBytes: 0,
      keywords: [],
      historyFloor: 1,
      specialUse: opts.specialUse,
      subscribed: (opts.subscribed ?? true) || dangling !== undefined,
    };
    const { accountId: _a, keywords: _k, ...attrs } = state;
    const tx = new Transaction()
      .add('name', {
        Put: {
          TableName: ctx.t.mailboxes,
          Item: toAttr({ ...nameKey(accountId, name), mailboxId: state.mailboxId }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })
      .add('state', {
        Put: {
          TableName: ctx.t.mailboxes,
          Item: toAttr({ ...mailboxKey(accountId, state.mailboxId), ...attrs, deletedCounted: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })
      .add('usage', {
        Update: {
          TableName: ctx.t.mailboxes,
          Key: toAttr(usageKey(accountId)),
          UpdateExpression: 'SET lastUidValidity = :v',
          ConditionExpression: 'attribute_not_exists(lastUidValidity) OR lastUidValidity < :v',
          ExpressionAttributeValues: toAttr({ ':v': uidValidity }),
        },
      });
    if (dangling)
      tx.add('subscription', { Delete: { TableName: ctx.t.mailboxes, Key: toAttr(subscriptionKey(accountId, name)) } });
    try {
      await ctx.commit(tx);
      ctx.publish({ type: 'mailbox', accountId, mailboxId: state.mailboxId, name, what: 'created' });
      return state;
    } catch (err) {
      const failure = tx.failure(err);
      if (failure?.failed.has('name')) throw new AlreadyExistsError(`mailbox ${name} exists`);
      if (!failure) throw temporary('mailbox create failed', err);
      await backoff(attempt);
    }
  }
  throw new TemporaryError('mailbox create: too much contention');
}

export async function ensureDefaultMailboxes(ctx: MailContext, accountId: string): Promise<MailboxState[]> {
  const existing = await listMailboxes(ctx, accountId);
  for (const def of DEFAULT_MAILBOXES) {
    if (existing.some((m) => m.name === def.name)) continue;
    try {
      existing.push(await createMailbox(ctx, accountId, def.name, { specialUse: def.specialUse, subscribed: true }));
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
  return listMailboxes(ctx, accountId);
}

/** UNSUBSCRIBE of a name whose mailbox is gone; NotFoundError when it was not subscribed either. */
async function dropDangling(ctx: MailContext, accountId: string, name: string): Promise<void> {
  try {
    await ctx.db.send(
      new DeleteItemCommand({
        TableName: ctx.t.mailboxes,
        Key: toAttr(subscriptionKey(accountId, name)),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') throw new NotFoundError(`no mailbox ${name}`);
    throw temporary('unsubscribe failed', err);
  }
}

export async function setSubscribed(ctx: MailContext, accountId: string, input: string, subscribed: boolean) {
  const name = normalizeMailboxName(input);
  const found = await getMailbox(ctx, accountId, name);
  if (!found && !subscribed) return dropDangling(ctx, accountId, name);
  const mailbox = found ?? (await requireMailbox(ctx, accountId, name));
  const tx = new Transaction().add('state', {
    Update: {
      TableName: ctx.t.mailboxes,
      Key: toAttr(mailboxKey(accountId, mailbox.mailboxId)),
      UpdateExpression: 'SET subscribed = :s',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleting)',
      ExpressionAttributeValues: toAttr({ ':s': subscribed }),
    },
  });
  try {
    await ctx.commit(tx);
  } catch (err) {
    if (tx.failure(err)?.failed.has('state')) throw new NotFoundError(`no mailbox ${name}`);
    throw temporary('subscribe failed', err);
  }
  const what = subscribed ? 'subscribed' : 'unsubscribed';
  ctx.publish({ type: 'mailbox', accountId, mailboxId: mailbox.mailboxId, name: mailbox.name, what });
}

// ------------------------------------------------------------ rename

interface Renaming {
  readonly mailboxId: string;
  readonly from: string;
  readonly to: string;
}

function renameItems(ctx: MailContext, accountId: string, r: Renaming): [string, TransactWriteItem][] {
  return [
    [
      'source',
      {
        Delete: {
          TableName: ctx.t.mailboxes,
          Key: toAttr(nameKey(accountId, r.from)),
          ConditionExpression: 'mailboxId = :id',
          ExpressionAttributeValues: toAttr({ ':id': r.mailboxId }),
        },
      },
    ],
    [
      'target',
      {
        Put: {
          TableName: ctx.t.mailboxes,
          Item: toAttr({ ...nameKey(accountId, r.to), mailboxId: r.mailboxId }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ],
    [
      'state',
      {
        Update: {
          TableName: ctx.t.mailboxes,
          Key: toAttr(mailboxKey(accountId, r.mailboxId)),
          UpdateExpression: 'SET #n = :to',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleting)',
          ExpressionAttributeNames: { '#n': 'name' },
          ExpressionAttributeValues: toAttr({ ':to': r.to }),
        },
      },
    ],
  ];
}

async function renameChunk(ctx: MailContext, accountId: string, chunk: readonly Renaming[]): Promise<void> {
  const tx = new Transaction();
  for (const r of chunk) for (const [role, item] of renameItems(ctx, accountId, r)) tx.add(role, item);
  try {
    await ctx.commit(tx);
  } catch (err) {
    const failure = tx.failure(err);
    if (failure?.failed.has('target')) throw new AlreadyExistsError('a mailbox with the new name exists');
    if (failure?.failed.has('source') || failure?.failed.has('state')) {
      throw new NotFoundError('the mailbox was renamed or deleted meanwhile');
    }
    throw temporary('mailbox rename failed', err);
  }
}

/** The mailbox and its inferiors (RFC 9051 §6.3.6: `a/x` follows `a`), with their new names. */
async function renamings(ctx: MailContext, accountId: string, from: string, to: string): Promise<Renaming[]> {
  const all = await listMailboxes(ctx, accountId);
  const inferior = (name: string) => name.startsWith(from + HIERARCHY_DELIMITER);
  const source = all.find((m) => m.name === from);
  if (!source) throw new NotFoundError(`no mailbox ${from}`);
  const moving = [source, ...all.filter((m) => inferior(m.name))];
  const out = moving.map((m) => ({
    mailboxId: m.mailboxId,
    from: m.name,
    to: normalizeMailboxName(to + m.name.slice(from.length)),
  }));
  const movingNames = new Set(moving.map((m) => m.name));
  const staying = new Set(all.map((m) => m.name).filter((n) => !movingNames.has(n)));
  for (const r of out) {
    if (staying.has(r.to)) throw new AlreadyExistsError(`mailbox ${r.to} exists`);
    if (movingNames.has(r.to)) throw new InvalidInputError(`renaming ${from} to ${to} overlaps itself`);
  }
  return out;
}

/**
 * RFC 3501 §6.3.5 / RFC 9051 §6.3.6: renaming INBOX moves its messages into a new mailbox of that name and
 * leaves INBOX (same UIDVALIDITY, now empty) in place; INBOX's inferiors stay where they are.
 */
async function renameInbox(ctx: MailContext, accountId: string, to: string): Promise<void> {
  const inbox = await requireMailbox(ctx, accountId, 'INBOX');
  const target = await createMailbox(ctx, accountId, to);
  const uids = (await listIndex(ctx, inbox)).map((e) => e.uid);
  if (uids.length > 0) await moveMessages(ctx, refOf(inbox), uids, refOf(target));
}

export async function renameMailbox(ctx: MailContext, accountId: string, fromInput: string, toInput: string) {
  const from = normalizeMailboxName(fromInput);
  const to = normalizeMailboxName(toInput);
  if (from === to) throw new AlreadyExistsError(`mailbox ${to} exists`);
  if (from === 'INBOX') return renameInbox(ctx, accountId, to);
  if (to.startsWith(from + HIERARCHY_DELIMITER)) throw new InvalidInputError(`cannot rename ${from} into itself`);
  const all = await renamings(ctx, accountId, from, to);
  const done: Renaming[] = [];
  try {
    for (const chunk of chunks(all, RENAME_CHUNK)) {
      await renameChunk(ctx, accountId, chunk);
      done.push(...chunk);
    }
  } catch (err) {
    // Put back what already moved, so a failed RENAME changes nothing (best effort).
    const back = done.map((r) => ({ mailboxId: r.mailboxId, from: r.to, to: r.from }));
    for (const chunk of chunks(back, RENAME_CHUNK)) {
      await renameChunk(ctx, accountId, chunk).catch((undo) =>
        ctx.opts.log?.error('rename rollback failed', { err: undo, accountId }),
      );
    }
    throw err;
  }
  for (const r of all) ctx.publish({ type: 'mailbox', accountId, mailboxId: r.mailboxId, name: r.to, what: 'renamed' });
}

// ------------------------------------------------------------ delete

/** Takes the name away and marks the state item, in one step. */
async function hide(ctx: MailContext, mailbox: MailboxState): Promise<void> {
  const { accountId, mailboxId } = mailbox;
  const tx = new Transaction()
    .add('name', {
      Delete: {
        TableName: ctx.t.mailboxes,
        Key: toAttr(nameKey(accountId, mailbox.name)),
        ConditionExpression: 'mailboxId = :id',
        ExpressionAttributeValues: toAttr({ ':id': mailboxId }),
      },
    })
    .add('state', {
      Update: {
        TableName: ctx.t.mailboxes,
        Key: toAttr(mailboxKey(accountId, mailboxId)),
        UpdateExpression: 'SET deleting = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleting)',
        ExpressionAttributeValues: toAttr({ ':now': ctx.now() }),
      },
    });
  // RFC 3501 §6.3.6: the subscription outlives the mailbox (LIST (SUBSCRIBED) shows it \NonExistent).
  if (mailbox.subscribed) {
    tx.add('subscription', {
      Put: { TableName: ctx.t.mailboxes, Item: toAttr({ ...subscriptionKey(accountId, mailbox.name) }) },
    });
  }
  try {
    await ctx.commit(tx);
  } catch (err) {
    if (tx.failure(err)?.failed.size) throw new NotFoundError(`no mailbox ${mailbox.name}`);
    throw temporary('mailbox delete failed', err);
  }
  ctx.forget(mailbox);
  ctx.publish({ type: 'mailbox', accountId, mailboxId, name: mailbox.name, what: 'deleted' });
}

/** Expunges every message of a hidden mailbox, then removes its state item. */
async function purge(ctx: MailContext, ref: MailboxRef): Promise<void> {
  for (;;) {
    const uids = (await listIndex(ctx, ref)).map((e) => e.uid);
    if (uids.length === 0) break;
    await expunge(ctx, ref, uids, { purge: true });
  }
  try {
    await ctx.db.send(
      new DeleteItemCommand({
        TableName: ctx.t.mailboxes,
        Key: toAttr(mailboxKey(ref.accountId, ref.mailboxId)),
        ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(deleting)',
      }),
    );
  } catch (err) {
    throw temporary('mailbox delete failed', err);
  }
}

/** Finishes deletions whose deleter died (marked long ago). */
async function resumeDeletions(ctx: MailContext, accountId: string): Promise<void> {
  const stale = (await mailboxItems(ctx, accountId)).filter(
    (i) => i.deleting !== undefined && ctx.now() - (i.deleting as number) > STALE_DELETION_MS,
  );
  for (const item of stale) await purge(ctx, { accountId, mailboxId: item.mailboxId as string });
}

/** RFC 9051 §6.3.4: the mailbox and its messages go; inferior names stay (they remain reachable). */
export async function deleteMailbox(ctx: MailContext, accountId: string, input: string): Promise<void> {
  const name = normalizeMailboxName(input);
  if (name === 'INBOX') throw new InvalidInputError('INBOX cannot be deleted');
  const mailbox = await requireMailbox(ctx, accountId, name);
  await hide(ctx, mailbox);
  await purge(ctx, mailbox);
  await resumeDeletions(ctx, accountId);
}

/** Every mailbox (INBOX too) as for a delete, then whatever else the account's partition holds. */
export async function deleteAccountMail(ctx: MailContext, accountId: string): Promise<void> {
  for (const mailbox of await listMailboxes(ctx, accountId)) {
    try {
      await hide(ctx, mailbox);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  for (const item of await mailboxItems(ctx, accountId)) {
    await purge(ctx, { accountId, mailboxId: item.mailboxId as string });
  }
  const rest = await ctx.query(
    {
      TableName: ctx.t.mailboxes,
      KeyConditionExpression: 'pk = :a',
      ExpressionAttributeValues: toAttr({ ':a': accountId }),
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    },
    'account items',
  );
  for (const batch of chunks(rest, 25)) {
    let requests = batch.map((i) => ({ DeleteRequest: { Key: toAttr({ pk: i.pk, sk: i.sk }) } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      try {
        const out = await ctx.db.send(new BatchWriteItemCommand({ RequestItems: { [ctx.t.mailboxes]: requests } }));
        requests = (out.UnprocessedItems?.[ctx.t.mailboxes] ?? []) as typeof requests;
      } catch (err) {
        throw temporary('account mail delete failed', err);
      }
      if (requests.length > 0) await backoff(attempt);
    }
  }
}
