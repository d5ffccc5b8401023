import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvalidInputError } from '../../core/errors.ts';
import type { AttemptRecord, OutboundQueue, QueueEntry, QueueEntryInput } from '../../core/outbound.ts';
import { QUEUE_STATE_INDEX, type StorageNames } from '../../core/schema.ts';
import { cancellationCodes, fromAttr, type Item, isConditionFailure, temporary, toAttr } from './dynamo.ts';
import { queueBlobRefKey } from './mail/keys.ts';
import {
  completedAttributes,
  DONE,
  entryKey,
  entryOf,
  IDEMPOTENCY_TTL_SECONDS,
  idemKey,
  newEntryItem,
  PENDING,
} from './queueItems.ts';

/**
 * Entries per enqueue transaction: DynamoDB's 100 items, less the idempotency record, each entry with the
 * reference it holds on its blob.
 */
const ENTRIES_PER_TRANSACTION = 49;
const LIST_PAGE = 100;
/** Index pages countPending reads at most: a metric need not cost more than ~10,000 entries' worth of reads. */
const COUNT_PAGES = 10;

/**
 * The outbound queue on the `queue` table. Runners find work through the byState index (PENDING, due time)
 * and take it with a conditional claim; a claim moves the entry's place in the index to the claim's end, so a
 * claimed entry is not offered again until a crashed runner's claim has run out.
 */
export class DynamoOutboundQueue implements OutboundQueue {
  private readonly table: string;
  private readonly refTable: string;

  constructor(
    private readonly db: DynamoDBClient,
    names: StorageNames,
    private readonly now: () => number = Date.now,
  ) {
    this.table = names.tables.queue;
    this.refTable = names.tables.mailboxes;
  }

  /**
   * The entry's reference on its blob, an item beside the mailboxes' own counts (lib/storage/aws/mail/blobs.ts),
   * so neither the release after an expunge nor the sweep deletes a blob the queue still has to send. It goes
   * when the entry is finished or removed; a crash in between leaves garbage for no one, never a lost blob.
   */
  private blobRef(entry: { readonly id: string; readonly blobKey: string }) {
    return { TableName: this.refTable, Key: toAttr(queueBlobRefKey(entry.blobKey, entry.id)) };
  }

  /**
   * One transaction per 99 entries, each with its own idempotency record (`key`, `key#1`, ...), so even an
   * enqueue of more entries than one transaction holds is never written twice by a retry of the same input.
   */
  async enqueue(entries: readonly QueueEntryInput[], idempotencyKey: string): Promise<{ readonly duplicate: boolean }> {
    if (entries.length === 0 || entries.some((e) => e.recipients.length === 0)) {
      throw new InvalidInputError('enqueue: every entry needs a recipient');
    }
    let duplicates = 0;
    const chunks = Math.max(1, Math.ceil(entries.length / ENTRIES_PER_TRANSACTION));
    for (let i = 0; i < chunks; i++) {
      const chunk = entries.slice(i * ENTRIES_PER_TRANSACTION, (i + 1) * ENTRIES_PER_TRANSACTION);
      const key = i === 0 ? idempotencyKey : `${idempotencyKey}#${i}`;
      if (await this.enqueueChunk(chunk, key)) duplicates++;
    }
    return { duplicate: duplicates === chunks };
  }

  /** True when the key was already there (nothing written). */
  private async enqueueChunk(entries: readonly QueueEntryInput[], key: string): Promise<boolean> {
    const now = this.now();
    const idem = {
      ...idemKey(key),
      entryIds: entries.map((e) => e.id),
      createdAt: now,
      expiresAt: Math.ceil(now / 1000) + IDEMPOTENCY_TTL_SECONDS,
    };
    const put = (item: Item) => ({
      Put: { TableName: this.table, Item: toAttr(item), ConditionExpression: 'attribute_not_exists(pk)' },
    });
    try {
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            put(idem),
            ...entries.map((e) => put(newEntryItem(e, now))),
            ...entries.map((e) => ({
              Put: {
                TableName: this.refTable,
                Item: toAttr({ ...queueBlobRefKey(e.blobKey, e.id), refs: 1, since: now }),
              },
            })),
          ],
        }),
      );
      return false;
    } catch (err) {
      if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed') return true;
      throw temporary('enqueue failed', err);
    }
  }

  /** A query of one state's partition of the byState index, up to `until` when given. */
  private stateQuery(state: string, until?: number): QueryCommandInput {
    return {
      TableName: this.table,
      IndexName: QUEUE_STATE_INDEX,
      KeyConditionExpression: until === undefined ? '#s = :s' : '#s = :s AND stateAt <= :until',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: toAttr(until === undefined ? { ':s': state } : { ':s': state, ':until': until }),
    };
  }

  async due(now: number, limit: number): Promise<QueueEntry[]> {
    try {
      const out = await this.db.send(new QueryCommand({ ...this.stateQuery(PENDING, now), Limit: limit }));
      return (out.Items ?? []).map((raw) => entryOf(fromAttr(raw)!));
    } catch (err) {
      throw temporary('queue due failed', err);
    }
  }

  async claim(id: string, owner: string, until: number): Promise<QueueEntry | undefined> {
    try {
      const out = await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttr(entryKey(id)),
          UpdateExpression: 'SET #o = :o, claimUntil = :u, stateAt = :u',
          ConditionExpression:
            'attribute_exists(pk) AND #s = :p AND nextAttemptAt <= :now AND ' +
            '(attribute_not_exists(claimUntil) OR claimUntil < :now OR #o = :o)',
          ExpressionAttributeNames: { '#o': 'owner', '#s': 'state' },
          ExpressionAttributeValues: toAttr({ ':o': owner, ':u': until, ':p': PENDING, ':now': this.now() }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return entryOf(fromAttr(out.Attributes)!);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw temporary('queue claim failed', err);
    }
  }

  async complete(id: string, owner: string, attempt: AttemptRecord): Promise<boolean> {
    const item = await this.read(id);
    if (!item || item.owner !== owner) return false;
    const attributes = completedAttributes(entryOf(item), attempt);
    const set = Object.keys(attributes).filter((k) => attributes[k] !== undefined);
    const remove = ['#o', 'claimUntil', ...(attributes.expiresAt === undefined ? ['expiresAt'] : [])];
    const names: Record<string, string> = { '#o': 'owner' };
    const values: Item = { ':owner': owner };
    for (const k of set) {
      names[`#${k}`] = k;
      values[`:${k}`] = attributes[k];
    }
    const update = {
      TableName: this.table,
      Key: toAttr(entryKey(id)),
      UpdateExpression: `SET ${set.map((k) => `#${k} = :${k}`).join(', ')} REMOVE ${remove.join(', ')}`,
      ConditionExpression: '#o = :owner',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: toAttr(values),
    };
    try {
      if (attributes.state === DONE) {
        // finished: the blob reference goes in the same commit
        await this.db.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Update: update }, { Delete: this.blobRef(entryOf(item)) }],
          }),
        );
      } else {
        await this.db.send(new UpdateItemCommand(update));
      }
      return true;
    } catch (err) {
      if (isConditionFailure(err) || cancellationCodes(err)?.[0] === 'ConditionalCheckFailed') return false;
      throw temporary('queue complete failed', err);
    }
  }

  async get(id: string): Promise<QueueEntry | undefined> {
    const item = await this.read(id);
    return item ? entryOf(item) : undefined;
  }

  private async read(id: string): Promise<Item | undefined> {
    try {
      const out = await this.db.send(
        new GetItemCommand({ TableName: this.table, Key: toAttr(entryKey(id)), ConsistentRead: true }),
      );
      return fromAttr(out.Item);
    } catch (err) {
      throw temporary('queue get failed', err);
    }
  }

  /** One Query with Select COUNT per index page (1 MB, about 1,000 entries), at most COUNT_PAGES of them. */
  async countPending(): Promise<number> {
    let count = 0;
    let start: Record<string, AttributeValue> | undefined;
    try {
      for (let page = 0; page < COUNT_PAGES; page++) {
        const out = await this.db.send(
          new QueryCommand({ ...this.stateQuery(PENDING), Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey;
        if (!start) break;
      }
      return count;
    } catch (err) {
      throw temporary('queue count failed', err);
    }
  }

  /** Pending entries, soonest due first, then finished ones, latest first; one index page at a time. */
  async *list(): AsyncIterable<QueueEntry> {
    for (const [state, forward] of [
      [PENDING, true],
      [DONE, false],
    ] as const) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.db.send(
          new QueryCommand({
            ...this.stateQuery(state),
            ScanIndexForward: forward,
            Limit: LIST_PAGE,
            ExclusiveStartKey: start,
          }),
        );
        for (const raw of out.Items ?? []) yield entryOf(fromAttr(raw)!);
        start = out.LastEvaluatedKey;
      } while (start);
    }
  }

  async retryNow(id: string): Promise<boolean> {
    const now = this.now();
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttr(entryKey(id)),
          // A held claim keeps its place in the index (its runner's complete sets the next one).
          UpdateExpression: 'SET nextAttemptAt = :now, stateAt = if_not_exists(claimUntil, :now)',
          ConditionExpression: 'attribute_exists(pk) AND #s = :p',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: toAttr({ ':now': now, ':p': PENDING }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw temporary('queue retry failed', err);
    }
  }

  async remove(id: string): Promise<boolean> {
    try {
      const item = await this.read(id);
      if (!item) return false;
      await this.db.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: { TableName: this.table, Key: toAttr(entryKey(id)), ConditionExpression: 'attribute_exists(pk)' },
            },
            { Delete: this.blobRef(entryOf(item)) },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed') return false;
      throw temporary('queue remove failed', err);
    }
  }
}
