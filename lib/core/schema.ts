import type { SettingsReader } from './settings.ts';

/**
 * The storage schema, declared once. The CDK stack (lib/infra) and the local emulator (local/) both build
 * their tables and bucket from these declarations, so the two can never drift apart.
 *
 * Tables (all on-demand; names below are logical, physical names come from StorageNames):
 * - directory: domains, accounts, addresses (account, alias, catch-all). One item per thing, keyed by pk/sk;
 *   the byDomain index lists a domain's addresses and the list of domains.
 * - mailboxes: per account (pk = accountId): the mailbox state items (sk = MBX#id), the name → id items
 *   (sk = NAME#name), the account's usage counter (sk = USAGE) and idempotency records (sk = IDEM#...).
 *   Everything an append must change atomically, except the message itself, sits in one partition. Blob
 *   reference counts sit here too, one item per blob and account (pk = BLOB#key, sk = REF#accountId).
 * - messages: the message index, pk `mailboxId` = `<accountId>#<mailboxId>` (so no read can name another
 *   account's mailbox), sk = uid. The byModseq local index holds only uid, modseq and flags: SELECT of a
 *   big mailbox and CONDSTORE's CHANGEDSINCE read it cheaply, with strongly consistent reads.
 * - changes: per mailbox (same pk as messages), one record per modseq (append, flags, expunge), with a TTL;
 *   used by sessions to catch up (IMAP EXPUNGE/FETCH/VANISHED, IDLE) without rescanning a mailbox.
 * - leases: short-lived locks (the POP3 maildrop lock), expiring by their own timestamp and TTL. The gateway
 *   tasks' presence records share it (pk = PRESENCE_PARTITION, sk = task id: the address and port of the task's
 *   notify listener, refreshed while it runs, with the same expiry attributes).
 * - queue: the outbound queue (lib/storage/aws/queue.ts). One item per entry (pk = Q#id, sk = ENTRY: one message
 *   for one destination domain, a state per recipient) and one idempotency record per enqueue (pk = IDEM#key,
 *   TTL). The byState index has a partition per state (PENDING, DONE) sorted by `stateAt`: for a pending entry
 *   when it is next due (or when its claim ends), for a finished one when it finished; the sweeper queries
 *   PENDING up to now and never reads finished entries, which expire by TTL.
 */

export type AttributeType = 'S' | 'N';

/** The queue table's index of entries by state and due time (see the table notes above). */
export const QUEUE_STATE_INDEX = 'byState';

/**
 * Secrets Manager names of the DKIM private keys start with this (one secret per domain, the deliver function's
 * only secrets); the deliver Lambda may read nothing else there.
 */
export const DKIM_SECRET_PREFIX = 'postern/dkim/';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDefinition {
  readonly name: string;
  readonly kind: 'local' | 'global';
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Non-key attributes copied into the index (INCLUDE); omitted: every attribute (ALL). */
  readonly projection?: readonly string[];
}

export interface TableDefinition {
  /** Logical name; also the suffix of the physical name. */
  readonly id: TableId;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, if items of this table expire. */
  readonly ttlAttribute?: string;
  /**
   * A DynamoDB stream of the table's writes, with each new item (NEW_IMAGE): the changes table's feeds the
   * notify function, which tells every gateway task of each commit (lib/storage/aws/changeFeed*.ts).
   */
  readonly stream?: 'NEW_IMAGE';
}

export type TableId = 'directory' | 'mailboxes' | 'messages' | 'changes' | 'leases' | 'queue';

export const TABLES: Readonly<Record<TableId, TableDefinition>> = {
  directory: {
    id: 'directory',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [
      {
        name: 'byDomain',
        kind: 'global',
        partitionKey: { name: 'gpk', type: 'S' },
        sortKey: { name: 'gsk', type: 'S' },
      },
    ],
  },
  mailboxes: {
    id: 'mailboxes',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
  messages: {
    id: 'messages',
    partitionKey: { name: 'mailboxId', type: 'S' },
    sortKey: { name: 'uid', type: 'N' },
    indexes: [
      {
        name: 'byModseq',
        kind: 'local',
        partitionKey: { name: 'mailboxId', type: 'S' },
        sortKey: { name: 'modseq', type: 'N' },
        projection: ['flags'],
      },
    ],
  },
  changes: {
    id: 'changes',
    partitionKey: { name: 'mailboxId', type: 'S' },
    sortKey: { name: 'modseq', type: 'N' },
    indexes: [],
    ttlAttribute: 'expiresAt',
    stream: 'NEW_IMAGE',
  },
  leases: {
    id: 'leases',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
  queue: {
    id: 'queue',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [
      {
        name: QUEUE_STATE_INDEX,
        kind: 'global',
        partitionKey: { name: 'state', type: 'S' },
        sortKey: { name: 'stateAt', type: 'N' },
      },
    ],
    ttlAttribute: 'expiresAt',
  },
};

export const TABLE_IDS = Object.keys(TABLES) as TableId[];

/** The leases table's partition of gateway presence records, the one partition the notify function reads. */
export const PRESENCE_PARTITION = 'PRESENCE#gateway';

/** Raw messages live under this prefix in the bucket, one immutable object per received message. */
export const MESSAGE_PREFIX = 'messages/';

/** Physical names of the tables and the bucket, as one deployment (or one emulator) has them. */
export interface StorageNames {
  readonly tables: Readonly<Record<TableId, string>>;
  readonly bucket: string;
}

/** Names derived from a prefix: what the emulator and tests use (`postern-directory`, ...). */
export function namesWithPrefix(prefix: string, bucket = `${prefix}-mail`): StorageNames {
  const tables = Object.fromEntries(TABLE_IDS.map((id) => [id, `${prefix}-${id}`])) as Record<TableId, string>;
  return { tables, bucket };
}

/** Environment variable names through which deployed code learns the physical names. */
export const TABLE_ENV: Readonly<Record<TableId, string>> = {
  directory: 'POSTERN_TABLE_DIRECTORY',
  mailboxes: 'POSTERN_TABLE_MAILBOXES',
  messages: 'POSTERN_TABLE_MESSAGES',
  changes: 'POSTERN_TABLE_CHANGES',
  leases: 'POSTERN_TABLE_LEASES',
  queue: 'POSTERN_TABLE_QUEUE',
};
export const BUCKET_ENV = 'POSTERN_BUCKET';

/** StorageNames from the settings; anything unset falls back to the prefix naming. */
export function namesFromSettings(s: SettingsReader): StorageNames {
  const fallback = namesWithPrefix(s.string('POSTERN_TABLE_PREFIX', 'postern'));
  const tables = Object.fromEntries(TABLE_IDS.map((id) => [id, s.string(TABLE_ENV[id], fallback.tables[id])]));
  return { tables: tables as Record<TableId, string>, bucket: s.string(BUCKET_ENV, fallback.bucket) };
}
