/**
 * Storage ports: the narrow interfaces every protocol session and pipeline step talks to. The AWS adapters
 * (lib/storage/aws) implement them on S3 and DynamoDB; nothing above this line imports the AWS SDK.
 */
import type { Readable } from 'node:stream';
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

export interface MailboxState {
  readonly accountId: string;
  readonly mailboxId: string;
  readonly name: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  /** Messages currently in the mailbox. */
  readonly messages: number;
  /** Sum of message sizes in bytes. */
  readonly bytes: number;
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
  readonly flags: readonly string[];
  /** What IMAP needs without reading the body (envelope, bodystructure, search headers), computed once. */
  readonly summary?: unknown;
}

export interface AppendInput {
  readonly accountId: string;
  readonly mailboxId: string;
  readonly blobKey: string;
  /** Size of the blob alone. */
  readonly blobSize: number;
  readonly headerPrefix?: string;
  readonly flags?: readonly string[];
  readonly internalDate?: number;
  readonly summary?: unknown;
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

export type FlagOperation = 'add' | 'remove' | 'replace';

export interface FlagUpdate {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
}

export type ChangeKind = 'append' | 'flags' | 'expunge';

/** One entry of a mailbox's change log: everything with a modseq above a session's knows what it missed. */
export interface ChangeRecord {
  readonly mailboxId: string;
  readonly modseq: number;
  readonly kind: ChangeKind;
  readonly uids: readonly number[];
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
  renameMailbox(accountId: string, from: string, to: string): Promise<void>;
  /** Deletes the mailbox and its index items (the blobs stay; they may be shared). */
  deleteMailbox(accountId: string, name: string): Promise<void>;
  setSubscribed(accountId: string, name: string, subscribed: boolean): Promise<void>;

  /** Atomically allocates the next UID and MODSEQ and writes the message (DESIGN.md rule 3). */
  append(input: AppendInput): Promise<AppendResult>;
  /**
   * Group commit of several messages into one mailbox (same account and mailbox for all): one transaction
   * where the rules allow, one outcome per input, in input order.
   */
  appendMany(inputs: readonly AppendInput[]): Promise<PromiseSettledResult<AppendResult>[]>;
  getMessage(mailboxId: string, uid: number): Promise<MessageMeta | undefined>;
  /** Messages in ascending UID order (strongly consistent). */
  listMessages(mailboxId: string, opts?: ListOptions): Promise<MessageMeta[]>;
  /** Messages whose modseq is above `modseq` (CONDSTORE CHANGEDSINCE), ascending by modseq. */
  listChangedSince(mailboxId: string, modseq: number): Promise<MessageMeta[]>;
  /** Change log entries above `modseq`, ascending. */
  changesSince(mailboxId: string, modseq: number): Promise<ChangeRecord[]>;
  /**
   * Adds, removes or replaces flags on the given UIDs (missing UIDs are skipped). Each changed message gets
   * a new modseq; concurrent changes are never lost (rule 4). Returns the messages that changed.
   */
  updateFlags(
    accountId: string,
    mailboxId: string,
    uids: readonly number[],
    op: FlagOperation,
    flags: readonly string[],
  ): Promise<FlagUpdate[]>;
  /** Removes the given UIDs, writes expunge change records and releases their quota. Returns the UIDs removed. */
  expunge(accountId: string, mailboxId: string, uids: readonly number[]): Promise<number[]>;
  getUsage(accountId: string): Promise<Usage>;
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

export type FunctionName = 'route' | 'filter' | 'store';

/** Calls a mail-logic function: the Lambda client in AWS, in-process (JSON round-tripped) locally. */
export interface Invoker {
  invoke<Req, Res>(fn: FunctionName, payload: Req): Promise<Res>;
}

// ---------------------------------------------------------------- all of storage

/** Everything the gateway, the functions and the admin CLI reach storage through. */
export interface Storage {
  readonly directory: Directory;
  readonly mail: MailStore;
  readonly blobs: BlobStore;
  readonly leases: LeaseStore;
  readonly names: StorageNames;
  close(): void;
}
