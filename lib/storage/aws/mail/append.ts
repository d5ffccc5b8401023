/**
 * APPEND and delivery. A group commit writes several messages into one mailbox in one transaction:
 * consecutive UIDs from UIDNEXT (conditioned on it, so UID n commits only after n-1: DESIGN.md rule 3), one
 * new MODSEQ and one change record, the account's usage under the quota, the blob counts, and per message
 * its index item and idempotency record.
 */
import { DeleteItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvalidInputError, LimitExceededError, QuotaExceededError, TemporaryError } from '../../../core/errors.ts';
import {
  type AppendInput,
  type AppendResult,
  type AtomicAppendOptions,
  MAX_ATOMIC_APPEND,
  type MailboxRef,
} from '../../../core/ports.ts';
import { backoff, temporary, toAttr } from '../dynamo.ts';
import { type CounterHint, type MailContext, Transaction } from './context.ts';
import { addBlobRefs, blobDeltas, bumped, type MailboxBump, mailboxChange, usageUpdate } from './items.ts';
import {
  DELETED,
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyKey,
  MAX_ATTEMPTS,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
  partitionOf,
  refOf,
  SEEN,
  storedFlags,
} from './keys.ts';

/** Messages per group commit: 3 items plus at most 3 per message stays under the 100-item limit. */
const MAX_APPEND_BATCH = 32;

type Outcome = PromiseSettledResult<AppendResult>;
const sizeOf = (i: AppendInput) => i.blobSize + Buffer.byteLength(i.headerPrefix ?? '');

/** What one message's items weigh in a transaction, roughly. */
const estimatedBytes = (input: AppendInput) =>
  1024 + (input.headerPrefix?.length ?? 0) + (input.summary ? JSON.stringify(input.summary).length : 0);

/** The next inputs that fit one transaction: at most MAX_APPEND_BATCH, and well under its 4 MB. */
function nextBatch(pending: readonly number[], inputs: readonly AppendInput[]): number[] {
  const batch: number[] = [];
  let bytes = 0;
  for (const i of pending) {
    const estimate = estimatedBytes(inputs[i]);
    if (batch.length > 0 && (batch.length >= MAX_APPEND_BATCH || bytes + estimate > MAX_TRANSACTION_BYTES)) break;
    batch.push(i);
    bytes += estimate;
  }
  return batch;
}

/** Each message must fit on top of the usage before it plus the batch's earlier messages. */
function quotaLimit(batch: readonly AppendInput[]): number {
  let before = 0;
  let limit = Number.POSITIVE_INFINITY;
  for (const input of batch) {
    before += sizeOf(input);
    if ((input.quotaBytes ?? 0) > 0) limit = Math.min(limit, input.quotaBytes! - before);
  }
  return limit;
}

interface AppendTransaction {
  readonly tx: Transaction;
  readonly bump: MailboxBump;
  readonly limit: number;
}

function appendTransaction(ctx: MailContext, batch: readonly AppendInput[], prev: CounterHint): AppendTransaction {
  const ref = refOf(batch[0]);
  const modseq = prev.highestModseq + 1;
  const uids = batch.map((_, j) => prev.uidNext + j);
  const total = batch.reduce((sum, i) => sum + sizeOf(i), 0);
  const limit = quotaLimit(batch);
  const deleted = batch.filter((i) => i.flags?.includes(DELETED));
  const bump: MailboxBump = {
    prev,
    appended: batch.length,
    messages: batch.length,
    bytes: total,
    unseen: batch.filter((i) => !i.flags?.includes(SEEN)).length,
    deleted: deleted.length,
    deletedBytes: deleted.reduce((sum, i) => sum + sizeOf(i), 0),
    flags: batch.flatMap((i) => i.flags ?? []),
  };
  const tx = new Transaction();
  mailboxChange(ctx, tx, ref, bump, 'append', uids);
  tx.add('usage', usageUpdate(ctx, ref.accountId, { bytes: total, messages: batch.length }, limit));
  batch.forEach((input, j) => {
    tx.add('message', messagePut(ctx, input, uids[j], modseq));
    if (input.idempotencyKey === undefined) return;
    tx.add(`idem#${j}`, idempotencyPut(ctx, ref, input.idempotencyKey, { uid: uids[j], modseq, prev }));
  });
  addBlobRefs(ctx, tx, ref.accountId, blobDeltas(batch, 1));
  return { tx, bump, limit };
}

/**
 * The record that makes a key's second append a duplicate. One past its expiry (TTL deletion lags) no longer
 * counts, so a short-lived key really is short-lived.
 */
function idempotencyPut(
  ctx: MailContext,
  ref: MailboxRef,
  key: string,
  first: { uid: number; modseq: number; prev: CounterHint },
  ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
): TransactWriteItem {
  const now = ctx.epochSeconds();
  return {
    Put: {
      TableName: ctx.t.mailboxes,
      Item: toAttr({
        ...idempotencyKey(ref, key),
        uid: first.uid,
        modseq: first.modseq,
        uidValidity: first.prev.uidValidity,
        expiresAt: now + ttlSeconds,
      }),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
      ExpressionAttributeValues: toAttr({ ':now': now }),
    },
  };
}

/** The first append's result under a key, unless the record is gone or past its expiry. */
async function firstAppend(ctx: MailContext, ref: MailboxRef, key: string): Promise<AppendResult | undefined> {
  const seen = await ctx.getItem(ctx.t.mailboxes, idempotencyKey(ref, key), 'idempotency');
  if (!seen || (seen.expiresAt as number) < ctx.epochSeconds()) return undefined;
  return {
    uid: seen.uid as number,
    modseq: seen.modseq as number,
    uidValidity: seen.uidValidity as number,
    duplicate: true,
  };
}

function messagePut(ctx: MailContext, input: AppendInput, uid: number, modseq: number): TransactWriteItem {
  const item = {
    mailboxId: partitionOf(input),
    uid,
    modseq,
    blobKey: input.blobKey,
    headerPrefix: input.headerPrefix || undefined,
    size: sizeOf(input),
    internalDate: input.internalDate ?? ctx.now(),
    savedAt: ctx.now(),
    flags: storedFlags(input.flags ?? []),
    summary: input.summary === undefined ? undefined : JSON.stringify(input.summary),
  };
  return { Put: { TableName: ctx.t.messages, Item: toAttr(item), ConditionExpression: 'attribute_not_exists(uid)' } };
}

/** Resolves the inputs whose idempotency record exists to the first copy's result (one that expired since stays pending). */
async function resolveDuplicates(
  ctx: MailContext,
  inputs: readonly AppendInput[],
  duplicates: readonly number[],
  out: Outcome[],
): Promise<void> {
  for (const i of duplicates) {
    const value = await firstAppend(ctx, inputs[i], inputs[i].idempotencyKey!);
    if (value) out[i] = { status: 'fulfilled', value }; // else expired between the write and this read: again
  }
}

/**
 * Group commit: each input gets its own outcome. A duplicate idempotency key resolves to the first copy, a
 * quota refusal to QuotaExceededError; when a group does not fit the quota (or the keyword bound), its
 * messages are tried one by one, so those that fit land.
 */
export async function appendMany(ctx: MailContext, inputs: readonly AppendInput[]): Promise<Outcome[]> {
  const first = inputs[0];
  if (!first) return [];
  if (inputs.some((i) => i.accountId !== first.accountId || i.mailboxId !== first.mailboxId)) {
    throw new InvalidInputError('appendMany takes messages for one mailbox');
  }
  const ref = refOf(first);
  const out: Outcome[] = new Array(inputs.length);
  const oneByOne = async (batch: readonly number[]) => {
    for (const i of batch) [out[i]] = await appendMany(ctx, [inputs[i]]);
  };
  const refuse = (i: number, reason: Error) => {
    out[i] = { status: 'rejected', reason };
  };
  // A key repeated within the call follows its first occurrence (one transaction may not write an item twice).
  const firstWithKey = new Map<string, number>();
  const followers: [number, number][] = [];
  let pending: number[] = [];
  inputs.forEach((input, i) => {
    if ((input.quotaBytes ?? 0) > 0 && sizeOf(input) > input.quotaBytes!) refuse(i, new QuotaExceededError());
    else if (input.idempotencyKey !== undefined && firstWithKey.has(input.idempotencyKey)) {
      followers.push([i, firstWithKey.get(input.idempotencyKey)!]);
    } else {
      if (input.idempotencyKey !== undefined) firstWithKey.set(input.idempotencyKey, i);
      pending.push(i);
    }
  });

  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS) throw new TemporaryError('append: too much contention');
    const batch = nextBatch(pending, inputs);
    const prev = await ctx.counters(ref);
    let built: AppendTransaction;
    try {
      built = appendTransaction(
        ctx,
        batch.map((i) => inputs[i]),
        prev,
      );
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      if (batch.length === 1) refuse(batch[0], err);
      else await oneByOne(batch);
      pending = pending.slice(batch.length);
      continue;
    }
    if (built.limit < 0) {
      // Even an empty account could not take all of them (an absent usage counter passes the condition).
      await oneByOne(batch);
      pending = pending.slice(batch.length);
      continue;
    }
    try {
      await ctx.commit(built.tx);
      const after = bumped(built.bump);
      const uids = batch.map((_, j) => prev.uidNext + j);
      batch.forEach((i, j) => {
        out[i] = {
          status: 'fulfilled',
          value: { uid: uids[j], modseq: after.highestModseq, uidValidity: prev.uidValidity, duplicate: false },
        };
      });
      ctx.remember(ref, after);
      ctx.publish({
        type: 'messages',
        accountId: ref.accountId,
        change: { mailboxId: ref.mailboxId, modseq: after.highestModseq, kind: 'append', uids },
      });
      pending = pending.slice(batch.length);
      attempt = -1;
    } catch (err) {
      ctx.forget(ref);
      const failure = built.tx.failure(err);
      if (!failure) throw temporary('append failed', err);
      const duplicates = batch.filter((_, j) => failure.failed.has(`idem#${j}`));
      if (duplicates.length > 0) {
        await resolveDuplicates(ctx, inputs, duplicates, out);
        pending = pending.filter((i) => out[i] === undefined);
      } else if (failure.failed.has('usage')) {
        if (batch.length === 1) refuse(batch[0], new QuotaExceededError());
        else await oneByOne(batch);
        pending = pending.slice(batch.length);
      } else if (attempt > 0) {
        await backoff(attempt); // the first failure may just be a stale hint
      }
    }
  }
  for (const [i, leader] of followers) {
    const result = out[leader];
    out[i] =
      result.status === 'fulfilled' ? { status: 'fulfilled', value: { ...result.value, duplicate: true } } : result;
  }
  return out;
}

/** The all-or-nothing transaction of appendAll, or the reason it cannot be one. */
function atomicTransaction(
  ctx: MailContext,
  inputs: readonly AppendInput[],
  prev: CounterHint,
  opts: AtomicAppendOptions,
): AppendTransaction {
  const built = appendTransaction(ctx, inputs, prev);
  if (built.limit < 0) throw new QuotaExceededError();
  if (opts.idempotencyKey !== undefined) {
    const first = { uid: prev.uidNext, modseq: prev.highestModseq + 1, prev };
    built.tx.add('idem', idempotencyPut(ctx, refOf(inputs[0]), opts.idempotencyKey, first, opts.idempotencyTtlSeconds));
  }
  if (built.tx.size > MAX_TRANSACTION_ITEMS) throw new LimitExceededError('too many messages for one append');
  return built;
}

/** The results of a group that committed before: consecutive UIDs from the first (one transaction made them). */
const groupResults = (first: AppendResult, count: number): AppendResult[] =>
  Array.from({ length: count }, (_, j) => ({ ...first, uid: first.uid + j }));

/**
 * MULTIAPPEND (RFC 3502 §3): every message in one transaction, so a reader sees all of them or none, and a
 * failure leaves nothing behind but the blobs (the caller's to delete). The group's key is one record.
 */
export async function appendAll(
  ctx: MailContext,
  inputs: readonly AppendInput[],
  opts: AtomicAppendOptions = {},
): Promise<AppendResult[]> {
  const first = inputs[0];
  if (!first) return [];
  if (inputs.some((i) => i.accountId !== first.accountId || i.mailboxId !== first.mailboxId)) {
    throw new InvalidInputError('appendAll takes messages for one mailbox');
  }
  if (inputs.length > MAX_ATOMIC_APPEND || inputs.reduce((n, i) => n + estimatedBytes(i), 0) > MAX_TRANSACTION_BYTES) {
    throw new LimitExceededError(`at most ${MAX_ATOMIC_APPEND} messages can be appended together`);
  }
  const ref = refOf(first);
  const plain = inputs.map((i) => ({ ...i, idempotencyKey: undefined }));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const prev = await ctx.counters(ref);
    const built = atomicTransaction(ctx, plain, prev, opts);
    try {
      await ctx.commit(built.tx);
    } catch (err) {
      ctx.forget(ref);
      const failure = built.tx.failure(err);
      if (!failure) throw temporary('append failed', err);
      if (failure.failed.has('usage')) throw new QuotaExceededError();
      if (failure.failed.has('idem')) {
        const earlier = await firstAppend(ctx, ref, opts.idempotencyKey!);
        if (earlier) return groupResults(earlier, inputs.length);
      }
      if (attempt > 0) await backoff(attempt); // the first failure may just be a stale hint
      continue;
    }
    const after = bumped(built.bump);
    const uids = inputs.map((_, j) => prev.uidNext + j);
    ctx.remember(ref, after);
    ctx.publish({
      type: 'messages',
      accountId: ref.accountId,
      change: { mailboxId: ref.mailboxId, modseq: after.highestModseq, kind: 'append', uids },
    });
    const base = { uid: prev.uidNext, modseq: after.highestModseq, uidValidity: prev.uidValidity, duplicate: false };
    return groupResults(base, inputs.length);
  }
  throw new TemporaryError('append: too much contention');
}

/** Removes a key's record (MailStore.forgetIdempotencyKey). */
export async function forgetIdempotencyKey(ctx: MailContext, ref: MailboxRef, key: string): Promise<void> {
  try {
    await ctx.db.send(new DeleteItemCommand({ TableName: ctx.t.mailboxes, Key: toAttr(idempotencyKey(ref, key)) }));
  } catch (err) {
    throw temporary('idempotency record delete failed', err);
  }
}
