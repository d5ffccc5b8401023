/**
 * Storage ports: the narrow interfaces every protocol session and pipeline step talks to. The AWS adapters
 * (lib/storage/aws) implement them on S3 and DynamoDB; nothing above this line imports the AWS SDK.
 */
import type { Readable } from 'node:stream';
import type { MessageSummary } from '../mime/summary.ts';
import type { OutboundQueue } from './outbound.ts';
import type { StorageNames } from './schema.ts';

// ---------------------------------------------------------------- blobs

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive; omitted means to the end. */
  readonly end?: number;
}

export interface BlobStore {
  /** Most bytes one streamed put holds in memory at a time (its parts in flight). */
  readonly putMemoryBytes: number;
  /** Stores an immutable object. A stream body is uploaded as it is read (never held whole in memory). */
  put(key: string, body: Buffer | Readable, contentType?: string): Promise<{ size: number }>;
  /** Streams the object, or a byte range of it. Throws NotFoundError when missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size in bytes, or undefined when missing. */
  head(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /**
   * The objects whose keys start with `prefix`, in UTF-8 binary key order, fetched a page at a time as the
   * caller iterates (never the whole listing in memory): what MailStore.sweepBlobs takes.
   */
  list(prefix: string): AsyncIterable<BlobCandidate>;
}

// ---------------------------------------------------------------- directory

export interface Domain {
  readonly domain: string;
  readonly createdAt: number;
  /** Who gets postmaster@ this domain (RFC 5321 §4.5.1) unless an alias says; else the catch-all, the first account. */
  readonly postmaster?: string;
}

export interface Account {
  readonly accountId: string;
  /** The primary address, normalised (`local@domain`). */
  readonly address: string;
  readonly domain: string;
  readonly passwordHash: string;
  /** Bytes; 0 means unlimited. */
  readonly quotaBytes: number;
  readonly createdAt: number;
}

export interface Alias {
  /** `local@domain`, or `@domain` for the domain's catch-all. */
  readonly address: string;
  readonly domain: string;
  /** Target addresses: local accounts or remote addresses. */
  readonly targets: readonly string[];
}

/** What one address is: an account's own address, or an alias (catch-all included). */
export type AddressEntry =
  | { readonly kind: 'account'; readonly address: string; readonly accountId: string }
  | { readonly kind: 'alias'; readonly address: string; readonly targets: readonly string[] };

export interface Directory {
  /** `postmaster` (an address, normalised here) is stored on the domain record as its postmaster. */
  addDomain(domain: string, opts?: { readonly postmaster?: string }): Promise<Domain>;
  getDomain(domain: string): Promise<Domain | undefined>;
  listDomains(): Promise<Domain[]>;
  /** Refuses (AlreadyExistsError… as InvalidInputError) while accounts or aliases remain in it. */
  removeDomain(domain: string): Promise<void>;

  /** Creates an account and its address atomically; the domain must exist and the address be free. */
  addAccount(input: { address: string; passwordHash: string; quotaBytes?: number }): Promise<Account>;
  getAccount(accountId: string): Promise<Account | undefined>;
  getAccountByAddress(address: string): Promise<Account | undefined>;
  listAccounts(domain?: string): Promise<Account[]>;
  setPasswordHash(address: string, passwordHash: string): Promise<void>;
  setQuota(address: string, quotaBytes: number): Promise<void>;
  removeAccount(address: string): Promise<void>;

  /** Creates an alias (or `@domain` catch-all); the domain must exist and the address be free. */
  addAlias(address: string, targets: readonly string[]): Promise<Alias>;
  listAliases(domain?: string): Promise<Alias[]>;
  removeAlias(address: string): Promise<void>;

  /** Exact lookup of one address (`local@domain` or `@domain`), already normalised. */
  lookupAddress(address: string): Promise<AddressEntry | undefined>;
}

// ---------------------------------------------------------------- mailboxes and messages

/**
 * Names one mailbox of one account. Every message and change call takes one, and the store keys message and
 * change items by both ids, so a call can never reach another account's messages by a mailbox id alone.
 */
export interface MailboxRef {
  readonly accountId: string;
  readonly mailboxId: string;
}

export interface MailboxState extends MailboxRef {
  readonly name: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  /** Messages currently in the mailbox. */
  readonly messages: number;
  /** Messages without `\Seen` (IMAP STATUS UNSEEN), kept in the same transactions as the messages. */
  readonly unseen: number;
  /** Sum of message sizes in bytes. */
  readonly bytes: number;
  /**
   * Messages with `\Deleted` and their bytes (IMAP STATUS DELETED, RFC 9208 DELETED-STORAGE), kept like
   * unseen; undefined for a mailbox created before these counters were kept (then count the flags).
   */
  readonly deleted?: number;
  readonly deletedBytes?: number;
  /** Keywords (flags not starting with `\`) ever set in this mailbox, sorted: IMAP FLAGS and PERMANENTFLAGS. */
  readonly keywords: readonly string[];
  /**
   * The change log is known complete above this modseq: changesSince from here or later can say what
   * happened. Lower values may still be complete; changesSince finds out and raises this floor.
   */
  readonly historyFloor: number;
  /** RFC 6154 attribute such as `\Junk`, if any. */
  readonly specialUse?: string;
  readonly subscribed: boolean;
}

/** One message in one mailbox, as the index holds it. Listing a mailbox never touches S3. */
export interface MessageMeta {
  readonly mailboxId: string;
  readonly uid: number;
  readonly modseq: number;
  /** S3 key of the raw message body, shared by every copy of it. */
  readonly blobKey: string;
  /**
   * Per-copy header lines served in front of the blob (Return-Path, Delivered-To, ...), CRLF-terminated.
   * The message as clients see it is `headerPrefix + blob`.
   */
  readonly headerPrefix: string;
  /** Octets as clients see them: byte length of headerPrefix + blob size. */
  readonly size: number;
  /** Milliseconds since the epoch (IMAP INTERNALDATE). */
  readonly internalDate: number;
  /** When this copy was saved into its mailbox (append, copy, move: RFC 8514 SAVEDATE); absent on older items. */
  readonly savedAt?: number;
  readonly flags: readonly string[];
  /** What IMAP needs without reading the body (envelope, bodystructure, search headers), computed once. */
  readonly summary?: MessageSummary;
}

/** The cheap view of a message (SELECT of a big mailbox, CONDSTORE): read from a small index, not the items. */
export interface MessageIndexEntry {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
}

export interface AppendInput extends MailboxRef {
  readonly blobKey: string;
  /** Size of the blob alone. */
  readonly blobSize: number;
  readonly headerPrefix?: string;
  readonly flags?: readonly string[];
  readonly internalDate?: number;
  readonly summary?: MessageSummary;
  /**
   * Makes the append idempotent: a second append with the same key into the same mailbox returns the first
   * result (duplicate: true) and creates nothing. Delivery uses (message id, recipient).
   */
  readonly idempotencyKey?: string;
  /** The account's quota in bytes (0 or undefined: unlimited); the append fails with QuotaExceededError past it. */
  readonly quotaBytes?: number;
}

export interface AppendResult {
  readonly uid: number;
  readonly modseq: number;
  readonly uidValidity: number;
  readonly duplicate: boolean;
}

/** Most messages MailStore.appendAll commits together (one DynamoDB transaction holds 100 items). */
export const MAX_ATOMIC_APPEND = 40;

export interface AtomicAppendOptions {
  /** Makes the group idempotent (see appendAll); the inputs' own keys are not used. */
  readonly idempotencyKey?: string;
  /** How long the key is remembered, in seconds (default: as long as delivery keys). */
  readonly idempotencyTtlSeconds?: number;
}

export type FlagOperation = 'add' | 'remove' | 'replace';

export interface FlagUpdate {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
}

export interface FlagUpdateOptions {
  /**
   * CONDSTORE STORE (RFC 7162 §3.1.3): only messages whose modseq is at most this are changed; the others
   * are reported as modified and left alone. 0 leaves every message alone.
   */
  readonly unchangedSince?: number;
}

export interface FlagUpdateResult {
  /** Messages whose flags changed, ascending by UID, each with its new modseq. */
  readonly updated: readonly FlagUpdate[];
  /** UIDs that failed the UNCHANGEDSINCE test (the MODIFIED response code), ascending. */
  readonly modified: readonly number[];
}

/** COPYUID data (RFC 4315 §3): the destination's UIDVALIDITY and the UID pairs, both lists in ascending order. */
export interface UidMap {
  readonly uidValidity: number;
  readonly sourceUids: readonly number[];
  readonly destUids: readonly number[];
}

export interface CopyOptions {
  /** The destination account's quota in bytes (0 or undefined: unlimited); QuotaExceededError past it. */
  readonly quotaBytes?: number;
}

export interface MoveOptions extends CopyOptions {
  /**
   * Called after each committed chunk (each is a complete move of its messages), so a server can send that
   * chunk's COPYUID and EXPUNGE responses even if a later chunk fails (RFC 6851 §3.3).
   */
  readonly onChunk?: (chunk: UidMap) => void;
}

export type ChangeKind = 'append' | 'flags' | 'expunge';

/** One entry of a mailbox's change log: everything with a modseq above a session's knows what it missed. */
export interface ChangeRecord {
  readonly mailboxId: string;
  readonly modseq: number;
  readonly kind: ChangeKind;
  readonly uids: readonly number[];
}

/** The change log above a modseq, or the news that part of it has expired (QRESYNC must then fall back). */
export interface ChangeHistory {
  /** False when some change above the asked modseq is gone (expired): `changes` is then empty. */
  readonly complete: boolean;
  /** Ascending by modseq, up to `highestModseq`. */
  readonly changes: readonly ChangeRecord[];
  /** The mailbox's HIGHESTMODSEQ the history was read up to. */
  readonly highestModseq: number;
  /** The lowest modseq from which history is known complete (see MailboxState.historyFloor). */
  readonly historyFloor: number;
}

export interface Usage {
  readonly bytes: number;
  readonly messages: number;
}

export interface ListOptions {
  /** Lowest UID, inclusive (default 1). */
  readonly fromUid?: number;
  /** Highest UID, inclusive (default: no limit). */
  readonly toUid?: number;
  /** Only what the listing needs: 'light' leaves out summary (POP3, IMAP flag sync). */
  readonly projection?: 'full' | 'light';
}

/** A stored blob the sweep may consider (from a bucket listing): its key and when it was written. */
export interface BlobCandidate {
  readonly key: string;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
}

export interface SweepResult {
  /** Keys deleted because nothing referenced them. */
  readonly deleted: readonly string[];
  /** Candidates kept: still referenced, or too young to judge. */
  readonly kept: number;
}

export interface MailStore {
  /** Creates the account's default mailboxes (INBOX, Sent, Drafts, Trash, Junk, Archive) if missing. */
  ensureDefaultMailboxes(accountId: string): Promise<MailboxState[]>;
  createMailbox(
    accountId: string,
    name: string,
    opts?: { specialUse?: string; subscribed?: boolean },
  ): Promise<MailboxState>;
  getMailbox(accountId: string, name: string): Promise<MailboxState | undefined>;
  getMailboxById(accountId: string, mailboxId: string): Promise<MailboxState | undefined>;
  listMailboxes(accountId: string): Promise<MailboxState[]>;
  /**
   * RFC 9051 §6.3.6: renames the mailbox and every inferior name with it (`a` → `b` takes `a/x` to `b/x`);
   * mailbox ids, messages and UIDs stay. Renaming INBOX moves its messages into a new mailbox of that name
   * and leaves INBOX empty (its inferiors stay). AlreadyExistsError when a target name is taken.
   */
  renameMailbox(accountId: string, from: string, to: string): Promise<void>;
  /**
   * RFC 9051 §6.3.4: deletes the mailbox and its messages (each blob goes when its last copy does); inferior
   * names are not touched and stay reachable. INBOX cannot be deleted.
   */
  deleteMailbox(accountId: string, name: string): Promise<void>;
  /**
   * Subscribing needs the mailbox (NotFoundError otherwise); unsubscribing also takes a name whose mailbox
   * was deleted while subscribed (RFC 3501 §6.3.6: deleting a mailbox keeps its subscription).
   */
  setSubscribed(accountId: string, name: string, subscribed: boolean): Promise<void>;
  /** Subscribed names without a mailbox, sorted; a mailbox created under one of them starts subscribed. */
  listDanglingSubscriptions(accountId: string): Promise<string[]>;
  /** Removes every mailbox, message and counter of the account (account removal); blobs as for expunge. */
  deleteAccountMail(accountId: string): Promise<void>;

  /** Atomically allocates the next UID and MODSEQ and writes the message (DESIGN.md rule 3). */
  append(input: AppendInput): Promise<AppendResult>;
  /**
   * Group commit of several messages into one mailbox (same account and mailbox for all): one transaction
   * where the rules allow, one outcome per input, in input order.
   */
  appendMany(inputs: readonly AppendInput[]): Promise<PromiseSettledResult<AppendResult>[]>;
  /**
   * All or nothing (RFC 3502 MULTIAPPEND): the messages (one mailbox) commit in one transaction with
   * consecutive UIDs, or none does. LimitExceededError when they cannot fit one transaction (see
   * MAX_ATOMIC_APPEND), QuotaExceededError when they do not fit the quota together. `idempotencyKey` names the
   * whole group: a second call with it returns the first call's results (duplicate: true) while it lasts.
   */
  appendAll(inputs: readonly AppendInput[], opts?: AtomicAppendOptions): Promise<AppendResult[]>;
  /**
   * Drops an idempotency record before it expires, so a later append with that key makes a new copy (IMAP:
   * the client has seen the APPEND's answer, so an identical APPEND now is meant). Nothing if there is none.
   */
  forgetIdempotencyKey(ref: MailboxRef, key: string): Promise<void>;
  getMessage(ref: MailboxRef, uid: number): Promise<MessageMeta | undefined>;
  /** The messages of those UIDs that exist, ascending by UID (strongly consistent). */
  getMessages(ref: MailboxRef, uids: readonly number[]): Promise<MessageMeta[]>;
  /** Messages in ascending UID order (strongly consistent). */
  listMessages(ref: MailboxRef, opts?: ListOptions): Promise<MessageMeta[]>;
  /**
   * Every message's UID, modseq and flags, ascending by UID, from a small index (strongly consistent). Read
   * the mailbox state first: the listing is then at least that current, and changesSince(its highestModseq)
   * catches up on whatever came after.
   */
  listIndex(ref: MailboxRef): Promise<MessageIndexEntry[]>;
  /** Messages whose modseq is above `modseq` (CONDSTORE CHANGEDSINCE), ascending by modseq, from the same index. */
  listChangedSince(ref: MailboxRef, modseq: number): Promise<MessageIndexEntry[]>;
  /**
   * Change log entries above `modseq`, ascending, or complete: false when some of them have expired (like
   * Dovecot's mailbox_get_expunges returning FALSE): QRESYNC then falls back to a full comparison.
   */
  changesSince(ref: MailboxRef, modseq: number): Promise<ChangeHistory>;
  /**
   * Adds, removes or replaces flags on the given UIDs (missing UIDs are skipped). Each changed message gets
   * a new modseq; concurrent changes are never lost (rule 4); a change that changes nothing bumps nothing.
   */
  updateFlags(
    ref: MailboxRef,
    uids: readonly number[],
    op: FlagOperation,
    flags: readonly string[],
    opts?: FlagUpdateOptions,
  ): Promise<FlagUpdateResult>;
  /** Removes the given UIDs, writes expunge change records and releases their quota. Returns the UIDs removed. */
  expunge(ref: MailboxRef, uids: readonly number[]): Promise<number[]>;
  /**
   * Copies the messages (missing UIDs are skipped) with their flags and internal date; copies share the blob.
   * New UIDs ascend with the source UIDs. All or nothing: a failure removes the copies already made (their
   * UIDs are not reused). The destination account's quota applies.
   */
  copyMessages(from: MailboxRef, uids: readonly number[], to: MailboxRef, opts?: CopyOptions): Promise<UidMap>;
  /**
   * Moves the messages (RFC 6851): each chunk of at most a few dozen messages is one transaction that
   * expunges them from the source and appends them to the destination, so no reader ever sees a message in
   * both mailboxes or in neither. Chunks commit one after another; a failure leaves earlier chunks moved.
   */
  moveMessages(from: MailboxRef, uids: readonly number[], to: MailboxRef, opts?: MoveOptions): Promise<UidMap>;
  getUsage(accountId: string): Promise<Usage>;
  /**
   * Deletes the candidates no message references any more, once older than the grace period (blobs left by a
   * crash during delivery, or whose last copy went while they were young). Candidates come from a listing of
   * the bucket's message prefix.
   */
  sweepBlobs(candidates: Iterable<BlobCandidate> | AsyncIterable<BlobCandidate>): Promise<SweepResult>;
}

// ---------------------------------------------------------------- change notification

/** What a ChangeNotifier carries: a committed change to a mailbox's messages, or to the mailbox itself. */
export type MailboxEvent =
  | { readonly type: 'messages'; readonly accountId: string; readonly change: ChangeRecord }
  | {
      readonly type: 'mailbox';
      readonly accountId: string;
      readonly mailboxId: string;
      readonly name: string;
      readonly what: 'created' | 'renamed' | 'deleted' | 'subscribed' | 'unsubscribed';
    }
  /**
   * The mailbox's HIGHESTMODSEQ reached `modseq`, details unknown: heard from another gateway task or found by
   * the notifier's own backstop read. Only a cross-task notifier publishes it.
   */
  | { readonly type: 'modseq'; readonly accountId: string; readonly mailboxId: string; readonly modseq: number };

/** Whose changes a subscriber hears: one mailbox, or every mailbox of an account (mailboxId omitted). */
export interface NotifyScope {
  readonly accountId: string;
  readonly mailboxId?: string;
}

/**
 * Tells sessions (IDLE, NOTIFY) that a mailbox changed, whoever changed it: another session, another gateway
 * task, the store Lambda. Events are hints, published after the commit: a subscriber catches up from the
 * change log (MailStore.changesSince from the modseq it knows), never from the events alone, so an
 * implementation may coalesce, delay or drop them (a cross-task one, over DynamoDB Streams or IoT, will).
 */
export interface ChangeNotifier {
  /**
   * True when commits anywhere reach this notifier (a cross-task one with its backstop): sessions in IDLE then
   * need no poll timer of their own.
   */
  readonly crossesTasks?: boolean;
  publish(event: MailboxEvent): void;
  /** Returns the function that ends the subscription. */
  subscribe(scope: NotifyScope, listener: (event: MailboxEvent) => void): () => void;
}

// ---------------------------------------------------------------- leases

export interface LeaseStore {
  /** Takes the lease if it is free or expired; false when another owner holds it. */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease this owner holds; false if it was lost. */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
}

// ---------------------------------------------------------------- lambdas

/**
 * The mail-logic functions; `deliver` works the outbound queue (lib/outbound/runner.ts), `sesFeedback` turns
 * Amazon SES bounce and complaint events into DSNs and suppressions (lib/outbound/sesFeedbackHandler.ts).
 */
export type FunctionName = InvokedFunction | 'sesFeedback';

/** The functions our own code invokes; `sesFeedback` is started by EventBridge only. */
export type InvokedFunction = 'route' | 'filter' | 'store' | 'deliver';

/** Calls a mail-logic function: the Lambda client in AWS, in-process (JSON round-tripped) locally. */
export interface Invoker {
  invoke<Req, Res>(fn: InvokedFunction, payload: Req): Promise<Res>;
  /**
   * Starts the function without waiting for its result (Lambda's InvocationType Event): resolves once the
   * invocation is accepted. Absent: callers invoke and ignore the result.
   */
  invokeEvent?<Req>(fn: InvokedFunction, payload: Req): Promise<void>;
}

// ---------------------------------------------------------------- all of storage

/** Everything the gateway, the functions and the admin CLI reach storage through. */
export interface Storage {
  readonly directory: Directory;
  readonly mail: MailStore;
  readonly blobs: BlobStore;
  readonly leases: LeaseStore;
  /** The outbound queue (lib/core/outbound.ts). */
  readonly queue: OutboundQueue;
  readonly names: StorageNames;
  close(): void;
}
