/**
 * What every part of the mail store shares: the client and table names, the clock, the counter hints, the
 * notifier and blob store it reports to, and the few read and write helpers all of them use.
 */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import type { BlobStore, ChangeNotifier, MailboxEvent, MailboxRef, MailboxState } from '../../../core/ports.ts';
import type { StorageNames } from '../../../core/schema.ts';
import { backoff, cancellationCodes, fromAttr, type Item, queryAll, temporary, toAttr } from '../dynamo.ts';
import { BLOB_GRACE_MS, mailboxKey, partitionOf, toMailbox } from './keys.ts';

export interface MailStoreOptions {
  /** Where blobs are deleted when their last copy goes; without it they are left for sweepBlobs. */
  readonly blobs?: BlobStore;
  /** Told of every committed change (IDLE, NOTIFY). */
  readonly notifier?: ChangeNotifier;
  readonly log?: Logger;
  /** Milliseconds since the epoch; tests move it. */
  readonly now?: () => number;
  readonly blobGraceMs?: number;
}

/**
 * What a writer believes a mailbox's counters are; only a guess, every write is conditioned on the modseq.
 * Every change of these (keywords included) bumps HIGHESTMODSEQ, so a hint whose modseq matches is exact.
 */
export interface CounterHint {
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly uidValidity: number;
  readonly keywords: ReadonlySet<string>;
}
const MAX_HINTS = 10_000;

export const hintOf = (m: MailboxState): CounterHint => ({
  uidNext: m.uidNext,
  highestModseq: m.highestModseq,
  uidValidity: m.uidValidity,
  keywords: new Set(m.keywords),
});

/** Roles of a transaction's items, so a cancellation can say which conditions failed. */
export class Transaction {
  readonly items: TransactWriteItem[] = [];
  private readonly roles: string[] = [];

  add(role: string, item: TransactWriteItem): this {
    this.items.push(item);
    this.roles.push(role);
    return this;
  }

  get size(): number {
    return this.items.length;
  }

  /** For a cancelled transaction: the roles whose condition failed, and whether another transaction got in the way. */
  failure(err: unknown): { readonly failed: ReadonlySet<string>; readonly conflict: boolean } | undefined {
    const codes = cancellationCodes(err);
    if (!codes) return undefined;
    const failed = new Set(this.roles.filter((_, i) => codes[i] === 'ConditionalCheckFailed'));
    return { failed, conflict: codes.some((c) => c === 'TransactionConflict') };
  }
}

export class MailContext {
  readonly t: StorageNames['tables'];
  readonly now: () => number;
  readonly blobGraceMs: number;
  /**
   * Counters this process last wrote, per mailbox. A write that starts from a hint saves the read before the
   * transaction; a stale hint only costs one failed condition and a re-read (correctness never depends on it).
   */
  private readonly hints = new Map<string, CounterHint>();
  /** Mailbox ids by account and name, as last found (getMailbox checks the name on the state item it reads). */
  private readonly mailboxIds = new Map<string, string>();

  constructor(
    readonly db: DynamoDBClient,
    names: StorageNames,
    readonly opts: MailStoreOptions = {},
  ) {
    this.t = names.tables;
    this.now = opts.now ?? Date.now;
    this.blobGraceMs = opts.blobGraceMs ?? BLOB_GRACE_MS;
  }

  epochSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  async getItem(table: string, key: Item, what: string): Promise<Item | undefined> {
    try {
      const out = await this.db.send(new GetItemCommand({ TableName: table, Key: toAttr(key), ConsistentRead: true }));
      return fromAttr(out.Item);
    } catch (err) {
      throw temporary(`${what} read failed`, err);
    }
  }

  async query(input: Parameters<typeof queryAll>[1], what: string): Promise<Item[]> {
    try {
      return await queryAll(this.db, input);
    } catch (err) {
      throw temporary(`${what} query failed`, err);
    }
  }

  /** Strongly consistent reads of many items of one table (those that exist), 100 keys a request. */
  async batchGet(table: string, keys: readonly Item[], what: string): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending = keys.slice(i, i + 100).map((k) => toAttr(k));
      for (let attempt = 0; pending.length > 0; attempt++) {
        try {
          const res = await this.db.send(
            new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
          );
          for (const raw of res.Responses?.[table] ?? []) out.push(fromAttr(raw)!);
          pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as typeof pending;
        } catch (err) {
          throw temporary(`${what} read failed`, err);
        }
        if (pending.length > 0) await backoff(attempt);
      }
    }
    return out;
  }

  /** Sends a transaction; a cancellation is thrown as it is, for the caller to read with Transaction.failure. */
  async commit(tx: Transaction): Promise<void> {
    await this.db.send(new TransactWriteItemsCommand({ TransactItems: tx.items }));
  }

  async readMailbox(ref: MailboxRef): Promise<MailboxState | undefined> {
    const item = await this.getItem(this.t.mailboxes, mailboxKey(ref.accountId, ref.mailboxId), 'mailbox');
    return item && item.deleting === undefined ? toMailbox(item) : undefined;
  }

  /** The mailbox's counters: this process's hint if it has one, else a consistent read. */
  async counters(ref: MailboxRef): Promise<CounterHint> {
    const hint = this.hints.get(partitionOf(ref));
    if (hint) return hint;
    return hintOf(await this.requireMailbox(ref));
  }

  async requireMailbox(ref: MailboxRef): Promise<MailboxState> {
    const mailbox = await this.readMailbox(ref);
    if (!mailbox) throw new NotFoundError(`no mailbox ${ref.mailboxId}`);
    this.remember(ref, hintOf(mailbox));
    return mailbox;
  }

  remember(ref: MailboxRef, hint: CounterHint): void {
    if (this.hints.size >= MAX_HINTS) this.hints.clear();
    this.hints.set(partitionOf(ref), hint);
  }

  forget(ref: MailboxRef): void {
    this.hints.delete(partitionOf(ref));
  }

  knownMailboxId(accountId: string, name: string): string | undefined {
    return this.mailboxIds.get(`${accountId}#${name}`);
  }

  rememberMailboxId(accountId: string, name: string, mailboxId: string | undefined): void {
    const key = `${accountId}#${name}`;
    if (mailboxId === undefined) this.mailboxIds.delete(key);
    else {
      if (this.mailboxIds.size >= MAX_HINTS) this.mailboxIds.clear();
      this.mailboxIds.set(key, mailboxId);
    }
  }

  /** Tells the notifier; a failing notifier never fails the change that already committed. */
  publish(event: MailboxEvent): void {
    try {
      this.opts.notifier?.publish(event);
    } catch (err) {
      this.opts.log?.warn('change notification failed', { err, accountId: event.accountId });
    }
  }
}
