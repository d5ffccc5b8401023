import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AlreadyExistsError,
  InvalidInputError,
  NotFoundError,
  QuotaExceededError,
  TemporaryError,
} from '../../core/errors.ts';
import { randomId } from '../../core/ids.ts';
import { DEFAULT_MAILBOXES, normalizeMailboxName } from '../../core/mailboxNames.ts';
import type {
  AppendInput,
  AppendResult,
  ChangeKind,
  ChangeRecord,
  FlagOperation,
  FlagUpdate,
  ListOptions,
  MailboxState,
  MailStore,
  MessageMeta,
  Usage,
} from '../../core/ports.ts';
import type { StorageNames } from '../../core/schema.ts';
import { backoff, cancellationCodes, fromAttr, type Item, queryAll, temporary, toAttr } from './dynamo.ts';

/**
 * The mail index on DynamoDB.
 *
 * Every change to a mailbox (append, flags, expunge) is one TransactWriteItems that bumps the mailbox item's
 * HIGHESTMODSEQ under a condition on the value it read (optimistic concurrency), writes the message items and
 * a change record keyed by the new modseq. Appends also condition on UIDNEXT. Because the transaction that
 * makes UID n visible is conditioned on the commit of n-1, no reader can ever see UID n without n-1 having
 * committed first: UIDs become visible in ascending order (DESIGN.md rule 3). Flag changes use DynamoDB's
 * atomic set ADD/DELETE, so concurrent changes to different flags are never lost (rule 4).
 */

const MAX_ATTEMPTS = 100;
/** TransactWriteItems takes at most 100 items; a batch leaves room for the mailbox, change and usage items. */
const BATCH = 90;
/** Messages per group commit: 3 + 2 items each stays under the 100-item transaction limit. */
const MAX_APPEND_BATCH = 32;
/** TransactWriteItems takes at most 4 MB; leave room for attribute names and encoding overhead. */
const MAX_TRANSACTION_BYTES = 3 * 1024 * 1024;
const MAILBOX_ITEM = 0;
const USAGE_ITEM = 1;
const CHANGE_TTL_SECONDS = 30 * 24 * 3600;
const IDEMPOTENCY_TTL_SECONDS = 14 * 24 * 3600;

const mailboxKey = (accountId: string, mailboxId: string) => ({ pk: accountId, sk: `MBX#${mailboxId}` });
const nameKey = (accountId: string, name: string) => ({ pk: accountId, sk: `NAME#${name}` });
const usageKey = (accountId: string) => ({ pk: accountId, sk: 'USAGE' });
const idempotencyKey = (accountId: string, mailboxId: string, key: string) => ({
  pk: accountId,
  sk: `IDEM#${mailboxId}#${key}`,
});

function toMailbox(item: Item): MailboxState {
  return {
    accountId: item.pk as string,
    mailboxId: item.mailboxId as string,
    name: item.name as string,
    uidValidity: item.uidValidity as number,
    uidNext: item.uidNext as number,
    highestModseq: item.highestModseq as number,
    messages: (item.messages as number) ?? 0,
    bytes: (item.bytes as number) ?? 0,
    specialUse: item.specialUse as string | undefined,
    subscribed: !!item.subscribed,
  };
}

function toMessage(item: Item): MessageMeta {
  const flags = item.flags as Set<string> | undefined;
  return {
    mailboxId: item.mailboxId as string,
    uid: item.uid as number,
    modseq: item.modseq as number,
    blobKey: item.blobKey as string,
    headerPrefix: (item.headerPrefix as string) ?? '',
    size: item.size as number,
    internalDate: item.internalDate as number,
    flags: flags ? [...flags].sort() : [],
    summary: typeof item.summary === 'string' ? JSON.parse(item.summary) : undefined,
  };
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Whether a transaction failed only because of contention, so the same step may simply be retried. */
function isContention(codes: string[] | undefined, mailboxIndex: number): boolean {
  if (!codes) return false;
  return codes[mailboxIndex] === 'ConditionalCheckFailed' || codes.some((c) => c === 'TransactionConflict');
}

/** What a writer believes a mailbox's counters are; only a guess, every write is conditioned on it. */
interface CounterHint {
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly uidValidity: number;
}
const MAX_HINTS = 10_000;

export class DynamoMailStore implements MailStore {
  private readonly t: StorageNames['tables'];
  /**
   * Counters this process last wrote, per mailbox. A write that starts from a hint saves the read before the
   * transaction; a stale hint only costs one failed condition and a re-read (correctness never depends on it).
   */
  private readonly hints = new Map<string, CounterHint>();

  constructor(
    private readonly db: DynamoDBClient,
    names: StorageNames,
  ) {
    this.t = names.tables;
  }

  // ------------------------------------------------------------ reads

  private async getItem(table: string, key: Item, what: string): Promise<Item | undefined> {
    try {
      const out = await this.db.send(new GetItemCommand({ TableName: table, Key: toAttr(key), ConsistentRead: true }));
      return fromAttr(out.Item);
    } catch (err) {
      throw temporary(`${what} read failed`, err);
    }
  }

  private async query(input: Parameters<typeof queryAll>[1], what: string): Promise<Item[]> {
    try {
      return await queryAll(this.db, input);
    } catch (err) {
      throw temporary(`${what} query failed`, err);
    }
  }

  async getMailboxById(accountId: string, mailboxId: string): Promise<MailboxState | undefined> {
    const item = await this.getItem(this.t.mailboxes, mailboxKey(accountId, mailboxId), 'mailbox');
    return item ? toMailbox(item) : undefined;
  }

  async getMailbox(accountId: string, name: string): Promise<MailboxState | undefined> {
    const ref = await this.getItem(this.t.mailboxes, nameKey(accountId, normalizeMailboxName(name)), 'mailbox');
    return ref ? this.getMailboxById(accountId, ref.mailboxId as string) : undefined;
  }

  async listMailboxes(accountId: string): Promise<MailboxState[]> {
    const items = await this.query(
      {
        TableName: this.t.mailboxes,
        KeyConditionExpression: 'pk = :a AND begins_with(sk, :p)',
        ExpressionAttributeValues: toAttr({ ':a': accountId, ':p': 'MBX#' }),
        ConsistentRead: true,
      },
      'mailbox list',
    );
    return items.map(toMailbox).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async getUsage(accountId: string): Promise<Usage> {
    const item = await this.getItem(this.t.mailboxes, usageKey(accountId), 'usage');
    return { bytes: (item?.bytes as number) ?? 0, messages: (item?.messages as number) ?? 0 };
  }

  async getMessage(mailboxId: string, uid: number): Promise<MessageMeta | undefined> {
    const item = await this.getItem(this.t.messages, { mailboxId, uid }, 'message');
    return item ? toMessage(item) : undefined;
  }

  async listMessages(mailboxId: string, opts: ListOptions = {}): Promise<MessageMeta[]> {
    const from = opts.fromUid ?? 1;
    const to = opts.toUid ?? Number.MAX_SAFE_INTEGER;
    const items = await this.query(
      {
        TableName: this.t.messages,
        KeyConditionExpression: 'mailboxId = :m AND uid BETWEEN :a AND :b',
        ExpressionAttributeValues: toAttr({ ':m': mailboxId, ':a': from, ':b': to }),
        ...(opts.projection === 'light'
          ? {
              ProjectionExpression: 'mailboxId, uid, modseq, blobKey, headerPrefix, #s, internalDate, flags',
              ExpressionAttributeNames: { '#s': 'size' },
            }
          : {}),
        ConsistentRead: true,
      },
      'message list',
    );
    return items.map(toMessage);
  }

  async listChangedSince(mailboxId: string, modseq: number): Promise<MessageMeta[]> {
    const items = await this.query(
      {
        TableName: this.t.messages,
        IndexName: 'byModseq',
        KeyConditionExpression: 'mailboxId = :m AND modseq > :s',
        ExpressionAttributeValues: toAttr({ ':m': mailboxId, ':s': modseq }),
        ConsistentRead: true,
      },
      'changed-since',
    );
    return items.map(toMessage);
  }

  async changesSince(mailboxId: string, modseq: number): Promise<ChangeRecord[]> {
    const items = await this.query(
      {
        TableName: this.t.changes,
        KeyConditionExpression: 'mailboxId = :m AND modseq > :s',
        ExpressionAttributeValues: toAttr({ ':m': mailboxId, ':s': modseq }),
        ConsistentRead: true,
      },
      'change log',
    );
    return items.map((i) => ({
      mailboxId: i.mailboxId as string,
      modseq: i.modseq as number,
      kind: i.kind as ChangeKind,
      uids: i.uids as number[],
    }));
  }

  // ------------------------------------------------------------ mailboxes

  async ensureDefaultMailboxes(accountId: string): Promise<MailboxState[]> {
    const existing = await this.listMailboxes(accountId);
    for (const def of DEFAULT_MAILBOXES) {
      if (existing.some((m) => m.name === def.name)) continue;
      try {
        existing.push(await this.createMailbox(accountId, def.name, { specialUse: def.specialUse, subscribed: true }));
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
      }
    }
    return this.listMailboxes(accountId);
  }

  /**
   * UIDVALIDITY must grow whenever a name is reused with fresh UIDs (RFC 3501 §2.3.1.1), so each account keeps
   * the last value it handed out and every new mailbox takes max(now in seconds, last + 1).
   */
  async createMailbox(
    accountId: string,
    input: string,
    opts: { specialUse?: string; subscribed?: boolean } = {},
  ): Promise<MailboxState> {
    const name = normalizeMailboxName(input);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const usage = await this.getItem(this.t.mailboxes, usageKey(accountId), 'usage');
      const last = (usage?.lastUidValidity as number | undefined) ?? 0;
      const uidValidity = Math.max(epochSeconds(), last + 1);
      const state: MailboxState = {
        accountId,
        mailboxId: randomId(),
        name,
        uidValidity,
        uidNext: 1,
        highestModseq: 1,
        messages: 0,
        bytes: 0,
        specialUse: opts.specialUse,
        subscribed: opts.subscribed ?? true,
      };
      const { accountId: _a, ...attrs } = state;
      try {
        await this.db.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.t.mailboxes,
                  Item: toAttr({ ...nameKey(accountId, name), mailboxId: state.mailboxId }),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.t.mailboxes,
                  Item: toAttr({ ...mailboxKey(accountId, state.mailboxId), ...attrs }),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.t.mailboxes,
                  Key: toAttr(usageKey(accountId)),
                  UpdateExpression: 'SET lastUidValidity = :v',
                  ConditionExpression: 'attribute_not_exists(lastUidValidity) OR lastUidValidity < :v',
                  ExpressionAttributeValues: toAttr({ ':v': uidValidity }),
                },
              },
            ],
          }),
        );
        return state;
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.[0] === 'ConditionalCheckFailed') throw new AlreadyExistsError(`mailbox ${name} exists`);
        if (!isContention(codes, 2)) throw temporary('mailbox create failed', err);
        await backoff(attempt);
      }
    }
    throw new TemporaryError('mailbox create: too much contention');
  }

  private async requireMailbox(accountId: string, name: string): Promise<MailboxState> {
    const mailbox = await this.getMailbox(accountId, name);
    if (!mailbox) throw new NotFoundError(`no mailbox ${name}`);
    return mailbox;
  }

  /** Renames one mailbox by moving its name item; the mailboxId (and so every message and UID) stays. */
  async renameMailbox(accountId: string, fromInput: string, toInput: string): Promise<void> {
    const from = normalizeMailboxName(fromInput);
    const to = normalizeMailboxName(toInput);
    if (from === 'INBOX') throw new InvalidInputError('renaming INBOX is not supported');
    const mailbox = await this.requireMailbox(accountId, from);
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.t.mailboxes,
                Key: toAttr(nameKey(accountId, from)),
                ConditionExpression: 'mailboxId = :id',
                ExpressionAttributeValues: toAttr({ ':id': mailbox.mailboxId }),
              },
            },
            {
              Put: {
                TableName: this.t.mailboxes,
                Item: toAttr({ ...nameKey(accountId, to), mailboxId: mailbox.mailboxId }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.t.mailboxes,
                Key: toAttr(mailboxKey(accountId, mailbox.mailboxId)),
                UpdateExpression: 'SET #n = :to',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#n': 'name' },
                ExpressionAttributeValues: toAttr({ ':to': to }),
              },
            },
          ],
        }),
      );
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError(`mailbox ${to} exists`);
      if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(`no mailbox ${from}`);
      throw temporary('mailbox rename failed', err);
    }
  }

  /**
   * Deletes the name and state items in one step (the mailbox disappears at once), then its message items,
   * and gives their bytes back to the account's usage.
   */
  async deleteMailbox(accountId: string, input: string): Promise<void> {
    const name = normalizeMailboxName(input);
    if (name === 'INBOX') throw new InvalidInputError('INBOX cannot be deleted');
    const mailbox = await this.requireMailbox(accountId, name);
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Delete: { TableName: this.t.mailboxes, Key: toAttr(nameKey(accountId, name)) } },
            { Delete: { TableName: this.t.mailboxes, Key: toAttr(mailboxKey(accountId, mailbox.mailboxId)) } },
          ],
        }),
      );
    } catch (err) {
      throw temporary('mailbox delete failed', err);
    }
    const messages = await this.listMessages(mailbox.mailboxId, { projection: 'light' });
    for (const batch of chunks(messages, 25)) {
      let requests = batch.map((m) => ({ DeleteRequest: { Key: toAttr({ mailboxId: m.mailboxId, uid: m.uid }) } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const out = await this.db.send(new BatchWriteItemCommand({ RequestItems: { [this.t.messages]: requests } }));
        requests = (out.UnprocessedItems?.[this.t.messages] ?? []) as typeof requests;
        if (requests.length > 0) await backoff(attempt);
      }
    }
    const bytes = messages.reduce((sum, m) => sum + m.size, 0);
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.t.mailboxes,
        Key: toAttr(usageKey(accountId)),
        UpdateExpression: 'ADD #b :b, messages :n',
        ExpressionAttributeNames: { '#b': 'bytes' },
        ExpressionAttributeValues: toAttr({ ':b': -bytes, ':n': -messages.length }),
      }),
    );
  }

  async setSubscribed(accountId: string, name: string, subscribed: boolean): Promise<void> {
    const mailbox = await this.requireMailbox(accountId, name);
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.t.mailboxes,
          Key: toAttr(mailboxKey(accountId, mailbox.mailboxId)),
          UpdateExpression: 'SET subscribed = :s',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: toAttr({ ':s': subscribed }),
        }),
      );
    } catch (err) {
      throw temporary('subscribe failed', err);
    }
  }

  // ------------------------------------------------------------ messages

  async append(input: AppendInput): Promise<AppendResult> {
    const [result] = await this.appendMany([input]);
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }

  /**
   * Group commit: appends several messages into one mailbox with one transaction (consecutive UIDs, one new
   * MODSEQ, one change record), under the same conditions as a single append. Each input gets its own
   * outcome: a duplicate idempotency key resolves to the first copy, a quota refusal to QuotaExceededError.
   */
  async appendMany(inputs: readonly AppendInput[]): Promise<PromiseSettledResult<AppendResult>[]> {
    const first = inputs[0];
    if (!first) return [];
    if (inputs.some((i) => i.accountId !== first.accountId || i.mailboxId !== first.mailboxId)) {
      throw new InvalidInputError('appendMany takes messages for one mailbox');
    }
    const out: PromiseSettledResult<AppendResult>[] = new Array(inputs.length);
    const sizeOf = (i: AppendInput) => i.blobSize + Buffer.byteLength(i.headerPrefix ?? '');
    // A key repeated within the call follows its first occurrence (one transaction may not write an item twice).
    const firstWithKey = new Map<string, number>();
    const followers: [number, number][] = [];
    let pending: number[] = [];
    inputs.forEach((input, i) => {
      if ((input.quotaBytes ?? 0) > 0 && sizeOf(input) > input.quotaBytes!) {
        out[i] = { status: 'rejected', reason: new QuotaExceededError() };
      } else if (input.idempotencyKey !== undefined && firstWithKey.has(input.idempotencyKey)) {
        followers.push([i, firstWithKey.get(input.idempotencyKey)!]);
      } else {
        if (input.idempotencyKey !== undefined) firstWithKey.set(input.idempotencyKey, i);
        pending.push(i);
      }
    });

    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new TemporaryError('append: too much contention');
      const batch = this.nextBatch(pending, inputs);
      const mailbox = await this.counters(first.accountId, first.mailboxId);
      const { items, idempotencyItemOwners, quotaLimit } = this.appendItems(
        batch.map((i) => inputs[i]),
        mailbox,
      );
      if (quotaLimit < 0) {
        // Even an empty account could not take all of them (an absent usage counter passes the condition).
        await this.appendOneByOne(inputs, batch, out);
        pending = pending.slice(batch.length);
        continue;
      }
      try {
        await this.db.send(new TransactWriteItemsCommand({ TransactItems: items }));
        const modseq = mailbox.highestModseq + 1;
        batch.forEach((i, j) => {
          out[i] = {
            status: 'fulfilled',
            value: { uid: mailbox.uidNext + j, modseq, uidValidity: mailbox.uidValidity, duplicate: false },
          };
        });
        this.remember(first.mailboxId, {
          uidNext: mailbox.uidNext + batch.length,
          highestModseq: modseq,
          uidValidity: mailbox.uidValidity,
        });
        pending = pending.slice(batch.length);
        attempt = -1;
      } catch (err) {
        this.hints.delete(first.mailboxId);
        const codes = cancellationCodes(err);
        if (!codes) throw temporary('append failed', err);
        const duplicates = idempotencyItemOwners.filter(([index]) => codes[index] === 'ConditionalCheckFailed');
        if (duplicates.length > 0) {
          for (const [, j] of duplicates) {
            const input = inputs[batch[j]];
            const seen = await this.getItem(
              this.t.mailboxes,
              idempotencyKey(input.accountId, input.mailboxId, input.idempotencyKey!),
              'idempotency',
            );
            if (!seen) continue; // expired between the write and this read: append it again
            out[batch[j]] = {
              status: 'fulfilled',
              value: {
                uid: seen.uid as number,
                modseq: seen.modseq as number,
                uidValidity: seen.uidValidity as number,
                duplicate: true,
              },
            };
          }
          pending = pending.filter((i) => out[i] === undefined);
          continue;
        }
        if (codes[USAGE_ITEM] === 'ConditionalCheckFailed') {
          if (batch.length === 1) out[batch[0]] = { status: 'rejected', reason: new QuotaExceededError() };
          else await this.appendOneByOne(inputs, batch, out);
          pending = pending.slice(batch.length);
          continue;
        }
        if (!isContention(codes, MAILBOX_ITEM)) throw temporary('append failed', err);
        if (attempt > 0) await backoff(attempt); // the first failure may just be a stale hint
      }
    }
    for (const [i, leader] of followers) {
      const result = out[leader];
      out[i] =
        result.status === 'fulfilled' ? { status: 'fulfilled', value: { ...result.value, duplicate: true } } : result;
    }
    return out;
  }

  /** When a group does not fit the quota, some of its messages may: each gets its own transaction and answer. */
  private async appendOneByOne(
    inputs: readonly AppendInput[],
    batch: readonly number[],
    out: PromiseSettledResult<AppendResult>[],
  ): Promise<void> {
    for (const i of batch) [out[i]] = await this.appendMany([inputs[i]]);
  }

  /** The next inputs that fit one transaction: at most MAX_APPEND_BATCH, and well under its 4 MB. */
  private nextBatch(pending: readonly number[], inputs: readonly AppendInput[]): number[] {
    const batch: number[] = [];
    let bytes = 0;
    for (const i of pending) {
      const input = inputs[i];
      const estimate =
        1024 + (input.headerPrefix?.length ?? 0) + (input.summary ? JSON.stringify(input.summary).length : 0);
      if (batch.length > 0 && (batch.length >= MAX_APPEND_BATCH || bytes + estimate > MAX_TRANSACTION_BYTES)) break;
      batch.push(i);
      bytes += estimate;
    }
    return batch;
  }

  /**
   * The transaction for one group commit. Layout: [0] mailbox counters (conditioned on UIDNEXT and
   * HIGHESTMODSEQ), [1] account usage (conditioned on the quota), [2] the change record, then per message its
   * index item and, when it has a key, its idempotency record.
   */
  private appendItems(
    batch: readonly AppendInput[],
    mailbox: CounterHint,
  ): { items: TransactWriteItem[]; idempotencyItemOwners: [number, number][]; quotaLimit: number } {
    const { accountId, mailboxId } = batch[0];
    const modseq = mailbox.highestModseq + 1;
    const uids = batch.map((_, j) => mailbox.uidNext + j);
    const sizes = batch.map((i) => i.blobSize + Buffer.byteLength(i.headerPrefix ?? ''));
    const total = sizes.reduce((a, b) => a + b, 0);
    // Each message must fit on top of the usage before it plus the batch's earlier messages.
    let before = 0;
    let limit = Number.POSITIVE_INFINITY;
    batch.forEach((input, j) => {
      before += sizes[j];
      if ((input.quotaBytes ?? 0) > 0) limit = Math.min(limit, input.quotaBytes! - before);
    });
    const quotaCondition = Number.isFinite(limit);
    const items: TransactWriteItem[] = [
      {
        Update: {
          TableName: this.t.mailboxes,
          Key: toAttr(mailboxKey(accountId, mailboxId)),
          UpdateExpression: 'SET uidNext = :next, highestModseq = :m ADD messages :n, #b :size',
          ConditionExpression: 'uidNext = :uid AND highestModseq = :prev',
          ExpressionAttributeNames: { '#b': 'bytes' },
          ExpressionAttributeValues: toAttr({
            ':next': mailbox.uidNext + batch.length,
            ':uid': mailbox.uidNext,
            ':m': modseq,
            ':prev': mailbox.highestModseq,
            ':n': batch.length,
            ':size': total,
          }),
        },
      },
      {
        Update: {
          TableName: this.t.mailboxes,
          Key: toAttr(usageKey(accountId)),
          UpdateExpression: 'ADD #b :size, messages :n',
          ConditionExpression: quotaCondition ? 'attribute_not_exists(#b) OR #b <= :limit' : undefined,
          ExpressionAttributeNames: { '#b': 'bytes' },
          ExpressionAttributeValues: toAttr({
            ':size': total,
            ':n': batch.length,
            ...(quotaCondition ? { ':limit': limit } : {}),
          }),
        },
      },
      { Put: { TableName: this.t.changes, Item: toAttr(this.change(mailboxId, modseq, 'append', uids)) } },
    ];
    const idempotencyItemOwners: [number, number][] = [];
    batch.forEach((input, j) => {
      const message = {
        mailboxId,
        uid: uids[j],
        modseq,
        blobKey: input.blobKey,
        headerPrefix: input.headerPrefix || undefined,
        size: sizes[j],
        internalDate: input.internalDate ?? Date.now(),
        flags: input.flags && input.flags.length > 0 ? new Set(input.flags) : undefined,
        summary: input.summary === undefined ? undefined : JSON.stringify(input.summary),
      };
      items.push({
        Put: { TableName: this.t.messages, Item: toAttr(message), ConditionExpression: 'attribute_not_exists(uid)' },
      });
      if (input.idempotencyKey === undefined) return;
      idempotencyItemOwners.push([items.length, j]);
      items.push({
        Put: {
          TableName: this.t.mailboxes,
          Item: toAttr({
            ...idempotencyKey(accountId, mailboxId, input.idempotencyKey),
            uid: uids[j],
            modseq,
            uidValidity: mailbox.uidValidity,
            expiresAt: epochSeconds() + IDEMPOTENCY_TTL_SECONDS,
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    });
    return { items, idempotencyItemOwners, quotaLimit: limit };
  }

  /** The mailbox's counters: this process's hint if it has one, else a consistent read. */
  private async counters(accountId: string, mailboxId: string): Promise<CounterHint> {
    const hint = this.hints.get(mailboxId);
    if (hint) return hint;
    const mailbox = await this.getMailboxById(accountId, mailboxId);
    if (!mailbox) throw new NotFoundError(`no mailbox ${mailboxId}`);
    return mailbox;
  }

  private remember(mailboxId: string, hint: CounterHint): void {
    if (this.hints.size >= MAX_HINTS) this.hints.clear();
    this.hints.set(mailboxId, hint);
  }

  private change(mailboxId: string, modseq: number, kind: ChangeKind, uids: number[]): Item {
    return { mailboxId, modseq, kind, uids, expiresAt: epochSeconds() + CHANGE_TTL_SECONDS };
  }

  /**
   * Each message update carries a condition that is false when the update would change nothing (or the
   * message is gone); such messages are dropped from the batch and the rest retried, so a STORE that changes
   * nothing does not bump MODSEQ.
   */
  private flagUpdate(
    uid: number,
    mailboxId: string,
    op: FlagOperation,
    flags: readonly string[],
    modseq: number,
  ): TransactWriteItem {
    const values: Item = { ':m': modseq };
    const names = flags.map((f, i) => {
      values[`:f${i}`] = f;
      return `:f${i}`;
    });
    const hasAll = names.map((n) => `contains(flags, ${n})`).join(' AND ');
    const hasAny = names.map((n) => `contains(flags, ${n})`).join(' OR ');
    let update: string;
    let condition: string;
    if (op === 'add') {
      values[':set'] = new Set(flags);
      update = 'SET modseq = :m ADD flags :set';
      condition = `attribute_exists(uid) AND (attribute_not_exists(flags) OR NOT (${hasAll}))`;
    } else if (op === 'remove') {
      values[':set'] = new Set(flags);
      update = 'SET modseq = :m DELETE flags :set';
      condition = `attribute_exists(uid) AND (${hasAny})`;
    } else if (flags.length === 0) {
      update = 'SET modseq = :m REMOVE flags';
      condition = 'attribute_exists(uid) AND attribute_exists(flags)';
    } else {
      values[':set'] = new Set(flags);
      values[':n'] = flags.length;
      update = 'SET modseq = :m, flags = :set';
      condition = `attribute_exists(uid) AND (attribute_not_exists(flags) OR size(flags) <> :n OR NOT (${hasAll}))`;
    }
    return {
      Update: {
        TableName: this.t.messages,
        Key: toAttr({ mailboxId, uid }),
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeValues: toAttr(values),
      },
    };
  }

  async updateFlags(
    accountId: string,
    mailboxId: string,
    uids: readonly number[],
    op: FlagOperation,
    input: readonly string[],
  ): Promise<FlagUpdate[]> {
    const flags = [...new Set(input)];
    if (flags.length === 0 && op !== 'replace') return [];
    const results: FlagUpdate[] = [];
    for (const batch of chunks(
      [...new Set(uids)].sort((a, b) => a - b),
      BATCH,
    )) {
      let pending = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new TemporaryError('flag update: too much contention');
        const mailbox = await this.getMailboxById(accountId, mailboxId);
        if (!mailbox) throw new NotFoundError(`no mailbox ${mailboxId}`);
        const modseq = mailbox.highestModseq + 1;
        try {
          await this.db.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                this.bumpModseq(accountId, mailboxId, modseq),
                { Put: { TableName: this.t.changes, Item: toAttr(this.change(mailboxId, modseq, 'flags', pending)) } },
                ...pending.map((uid) => this.flagUpdate(uid, mailboxId, op, flags, modseq)),
              ],
            }),
          );
          this.remember(mailboxId, {
            uidNext: mailbox.uidNext,
            highestModseq: modseq,
            uidValidity: mailbox.uidValidity,
          });
          results.push(...(await this.readFlags(mailboxId, pending)));
          pending = [];
        } catch (err) {
          const codes = cancellationCodes(err);
          if (!codes) throw temporary('flag update failed', err);
          const unchanged = new Set(pending.filter((_, i) => codes[i + 2] === 'ConditionalCheckFailed'));
          if (unchanged.size > 0) pending = pending.filter((uid) => !unchanged.has(uid));
          else if (isContention(codes, 0)) await backoff(attempt);
          else throw temporary('flag update failed', err);
        }
      }
    }
    return results;
  }

  private bumpModseq(
    accountId: string,
    mailboxId: string,
    modseq: number,
    counters?: { messages: number; bytes: number },
  ): TransactWriteItem {
    return {
      Update: {
        TableName: this.t.mailboxes,
        Key: toAttr(mailboxKey(accountId, mailboxId)),
        UpdateExpression: counters ? 'SET highestModseq = :m ADD messages :n, #b :b' : 'SET highestModseq = :m',
        ConditionExpression: 'highestModseq = :prev',
        ExpressionAttributeNames: counters ? { '#b': 'bytes' } : undefined,
        ExpressionAttributeValues: toAttr({
          ':m': modseq,
          ':prev': modseq - 1,
          ...(counters ? { ':n': -counters.messages, ':b': -counters.bytes } : {}),
        }),
      },
    };
  }

  private async readFlags(mailboxId: string, uids: readonly number[]): Promise<FlagUpdate[]> {
    const out: FlagUpdate[] = [];
    for (const batch of chunks(uids, 100)) {
      let keys = batch.map((uid) => toAttr({ mailboxId, uid }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        const res = await this.db.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.t.messages]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: 'uid, modseq, flags, #s, mailboxId, blobKey, internalDate',
                ExpressionAttributeNames: { '#s': 'size' },
              },
            },
          }),
        );
        for (const raw of res.Responses?.[this.t.messages] ?? []) {
          const m = toMessage(fromAttr(raw)!);
          out.push({ uid: m.uid, modseq: m.modseq, flags: m.flags });
        }
        keys = (res.UnprocessedKeys?.[this.t.messages]?.Keys ?? []) as typeof keys;
        if (keys.length > 0) await backoff(attempt);
      }
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  async expunge(accountId: string, mailboxId: string, uids: readonly number[]): Promise<number[]> {
    const removed: number[] = [];
    for (const batch of chunks(
      [...new Set(uids)].sort((a, b) => a - b),
      BATCH,
    )) {
      for (let attempt = 0; ; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new TemporaryError('expunge: too much contention');
        const present = (await Promise.all(batch.map((uid) => this.getMessage(mailboxId, uid)))).filter(
          (m): m is MessageMeta => !!m,
        );
        if (present.length === 0) break;
        const mailbox = await this.getMailboxById(accountId, mailboxId);
        if (!mailbox) throw new NotFoundError(`no mailbox ${mailboxId}`);
        const modseq = mailbox.highestModseq + 1;
        const bytes = present.reduce((sum, m) => sum + m.size, 0);
        const gone = present.map((m) => m.uid);
        try {
          await this.db.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                this.bumpModseq(accountId, mailboxId, modseq, { messages: present.length, bytes }),
                { Put: { TableName: this.t.changes, Item: toAttr(this.change(mailboxId, modseq, 'expunge', gone)) } },
                {
                  Update: {
                    TableName: this.t.mailboxes,
                    Key: toAttr(usageKey(accountId)),
                    UpdateExpression: 'ADD #b :b, messages :n',
                    ExpressionAttributeNames: { '#b': 'bytes' },
                    ExpressionAttributeValues: toAttr({ ':b': -bytes, ':n': -present.length }),
                  },
                },
                ...gone.map((uid) => ({
                  Delete: {
                    TableName: this.t.messages,
                    Key: toAttr({ mailboxId, uid }),
                    ConditionExpression: 'attribute_exists(uid)',
                  },
                })),
              ],
            }),
          );
          this.remember(mailboxId, {
            uidNext: mailbox.uidNext,
            highestModseq: modseq,
            uidValidity: mailbox.uidValidity,
          });
          removed.push(...gone);
          break;
        } catch (err) {
          if (!cancellationCodes(err)) throw temporary('expunge failed', err);
          await backoff(attempt); // contention, or another session expunged one of them: re-read and retry
        }
      }
    }
    return removed;
  }
}
