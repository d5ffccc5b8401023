/**
 * Keys, limits and item shapes of the mail index (see lib/core/schema.ts for the tables).
 *
 * Message and change items are keyed by `<accountId>#<mailboxId>`: an id of a mailbox in another account
 * addresses nothing, so every read and write is scoped by its MailboxRef by construction.
 */
import type {
  ChangeKind,
  ChangeRecord,
  MailboxRef,
  MailboxState,
  MessageIndexEntry,
  MessageMeta,
} from '../../../core/ports.ts';
import type { MessageSummary } from '../../../mime/summary.ts';
import type { Item } from '../dynamo.ts';

/** Optimistic-concurrency attempts before a call gives up with a TemporaryError. */
export const MAX_ATTEMPTS = 100;
/** TransactWriteItems takes at most 100 items. */
export const MAX_TRANSACTION_ITEMS = 100;
/** TransactWriteItems takes at most 4 MB; leave room for attribute names and encoding overhead. */
export const MAX_TRANSACTION_BYTES = 3 * 1024 * 1024;
/** Keywords one mailbox may collect (PERMANENTFLAGS stays a short line; rule 8). */
export const MAX_KEYWORDS = 256;
export const CHANGE_TTL_SECONDS = 30 * 24 * 3600;
export const IDEMPOTENCY_TTL_SECONDS = 14 * 24 * 3600;
/**
 * A blob is only deleted once its first reference is this old: a delivery still retrying (the gateway's
 * store retries, a store Lambda finishing after its caller gave up: at most 15 minutes) may yet add a copy
 * that points at it. Younger blobs whose last copy goes are left to the sweep.
 */
export const BLOB_GRACE_MS = 60 * 60 * 1000;

export const mailboxKey = (accountId: string, mailboxId: string) => ({ pk: accountId, sk: `MBX#${mailboxId}` });
export const nameKey = (accountId: string, name: string) => ({ pk: accountId, sk: `NAME#${name}` });
export const usageKey = (accountId: string) => ({ pk: accountId, sk: 'USAGE' });
/** A subscription that outlived its mailbox (RFC 3501 §6.3.6: a server never drops one on its own). */
export const subscriptionKey = (accountId: string, name: string) => ({ pk: accountId, sk: `SUB#${name}` });
export const SUBSCRIPTION_PREFIX = 'SUB#';
export const idempotencyKey = (ref: MailboxRef, key: string) => ({
  pk: ref.accountId,
  sk: `IDEM#${ref.mailboxId}#${key}`,
});
export const blobPartition = (blobKey: string) => `BLOB#${blobKey}`;
export const blobRefKey = (blobKey: string, accountId: string) => ({
  pk: blobPartition(blobKey),
  sk: `REF#${accountId}`,
});

/** The outbound queue's reference on a blob, one per entry (queue.ts): counted like an account's. */
export const queueBlobRefKey = (blobKey: string, entryId: string) => ({
  pk: blobPartition(blobKey),
  sk: `REF#queue#${entryId}`,
});

/** The partition of a mailbox's message and change items. Ids are base64url, so `#` cannot occur in them. */
export const partitionOf = (ref: MailboxRef) => `${ref.accountId}#${ref.mailboxId}`;
export const messageKey = (ref: MailboxRef, uid: number) => ({ mailboxId: partitionOf(ref), uid });
const mailboxIdOf = (partition: string) => partition.slice(partition.lastIndexOf('#') + 1);

export const refOf = (m: MailboxRef): MailboxRef => ({ accountId: m.accountId, mailboxId: m.mailboxId });
export const sameMailbox = (a: MailboxRef, b: MailboxRef) => a.accountId === b.accountId && a.mailboxId === b.mailboxId;

export const SEEN = '\\Seen';
export const DELETED = '\\Deleted';
export const isKeyword = (flag: string) => !flag.startsWith('\\');

export function toMailbox(item: Item): MailboxState {
  const keywords = item.keywords as Set<string> | undefined;
  return {
    accountId: item.pk as string,
    mailboxId: item.mailboxId as string,
    name: item.name as string,
    uidValidity: item.uidValidity as number,
    uidNext: item.uidNext as number,
    highestModseq: item.highestModseq as number,
    messages: (item.messages as number) ?? 0,
    unseen: (item.unseen as number) ?? 0,
    bytes: (item.bytes as number) ?? 0,
    // counted only on mailboxes created since (an ADD on an older item would start from a wrong 0)
    ...(item.deletedCounted
      ? { deleted: (item.deleted as number) ?? 0, deletedBytes: (item.deletedBytes as number) ?? 0 }
      : {}),
    keywords: keywords ? [...keywords].sort() : [],
    historyFloor: (item.historyFloor as number) ?? 1,
    specialUse: item.specialUse as string | undefined,
    subscribed: !!item.subscribed,
  };
}

export const flagsOf = (item: Item): string[] => {
  const flags = item.flags as Set<string> | undefined;
  return flags ? [...flags].sort() : [];
};

export function toMessage(item: Item): MessageMeta {
  return {
    mailboxId: mailboxIdOf(item.mailboxId as string),
    uid: item.uid as number,
    modseq: item.modseq as number,
    blobKey: item.blobKey as string,
    headerPrefix: (item.headerPrefix as string) ?? '',
    size: item.size as number,
    internalDate: item.internalDate as number,
    savedAt: item.savedAt as number | undefined,
    flags: flagsOf(item),
    summary: typeof item.summary === 'string' ? (JSON.parse(item.summary) as MessageSummary) : undefined,
  };
}

export const toIndexEntry = (item: Item): MessageIndexEntry => ({
  uid: item.uid as number,
  modseq: item.modseq as number,
  flags: flagsOf(item),
});

export const toChange = (item: Item): ChangeRecord => ({
  mailboxId: mailboxIdOf(item.mailboxId as string),
  modseq: item.modseq as number,
  kind: item.kind as ChangeKind,
  uids: item.uids as number[],
});

/** A flag set as DynamoDB stores it: a string set, or nothing (an empty set cannot be stored). */
export const storedFlags = (flags: Iterable<string>): Set<string> | undefined => {
  const set = new Set(flags);
  return set.size > 0 ? set : undefined;
};

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const ascendingUnique = (uids: readonly number[]) => [...new Set(uids)].sort((a, b) => a - b);
