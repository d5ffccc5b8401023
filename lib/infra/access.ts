import * as iam from 'aws-cdk-lib/aws-iam';
import { MESSAGE_PREFIX, QUEUE_STATE_INDEX, TABLES, type TableId } from '../core/schema.ts';
import { acknowledgeMessageObjectGrant } from './nagAcknowledgements.ts';
import type { Storage } from './storage.ts';

/**
 * What each component may do to the tables and the bucket: exactly the calls its code makes (the adapters in
 * lib/storage/aws), as explicit IAM statements. TransactWriteItems has no IAM action of its own: each Put,
 * Update, Delete or ConditionCheck in it needs PutItem, UpdateItem, DeleteItem or ConditionCheckItem on its
 * table. A grant names a table ARN, or one index of it when it says so: the gateway queries byModseq (the mail
 * store's small index for IMAP SELECT and CONDSTORE), deliver queries the queue's byState; byDomain is the
 * admin CLI's. No component scans.
 */
type DynamoAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem';
type MessageObjectAction = 'GetObject' | 'PutObject' | 'AbortMultipartUpload' | 'DeleteObject';

interface TableGrant {
  readonly table: TableId;
  /** The grant is on this index of the table, not the table itself. */
  readonly index?: string;
  readonly actions: readonly DynamoAction[];
  /** IAM conditions narrowing the grant to some items or attributes (DynamoDB fine-grained access control). */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

export interface ComponentAccess {
  readonly tables: readonly TableGrant[];
  /** Actions on the raw message objects (MESSAGE_PREFIX*). */
  readonly messageObjects: readonly MessageObjectAction[];
  /**
   * s3:ListBucket on the bucket, so GetObject of a missing key answers 404 NoSuchKey rather than 403 (S3 hides
   * whether a key exists from callers that may not list).
   */
  readonly listBucket: boolean;
}

const directoryKey = TABLES.directory;

/**
 * The gateway (lib/gateway, lib/smtp, lib/pop3, lib/auth over lib/storage/aws).
 * - directory: login reads the ADDR# item, then the ACCOUNT# item (DynamoDirectory.getAccountByAddress).
 *   Rehashing a password at login (in progress) updates the account's passwordHash: UpdateItem, only on
 *   ACCOUNT# items (the key prefix of lib/storage/aws/directory.ts) and only that attribute besides the key.
 *   No PutItem or DeleteItem: the gateway never creates or removes directory items (the admin CLI does).
 * - mailboxes: SMTP RCPT reads the account's usage; POP3 reads INBOX's name and state items; creating the
 *   default mailboxes (ensureDefaultMailboxes: Query, then TransactWriteItems Put+Put+Update) and POP3's
 *   expunge (Update of the counters, the usage and the blob counts) write. The IMAP storage calls
 *   (lib/storage/aws/mail) also delete there: RENAME and DELETE remove name items and, at the end of a
 *   purge, the state item; a released blob's count items go (after a Query of them); a gap in the change
 *   log raises the mailbox's history floor (Update).
 * - messages: POP3 lists INBOX (Query on the table), and its expunge reads (BatchGetItem) then deletes message
 *   items. IMAP: STORE updates items, COPY and MOVE put them (and condition-check the source items), SELECT
 *   and CHANGEDSINCE query the byModseq index.
 * - changes: every change's record (Put); catching up (changesSince) queries them.
 * - leases: the POP3 maildrop lease (acquire, renew, release).
 * - queue: submission and forwarding enqueue (TransactWriteItems of Puts: the entries and the idempotency
 *   record). The gateway never claims, completes or deletes entries: the deliver function does.
 * - objects: DATA streams into S3 (PutObject, multipart for large messages, aborted on failure), RETR/TOP
 *   read, refused or unused texts are deleted. ListBucket: a missing body is "no longer available" in POP3.
 */
export const GATEWAY_ACCESS: ComponentAccess = {
  tables: [
    { table: 'directory', actions: ['GetItem'] },
    {
      table: 'directory',
      actions: ['UpdateItem'],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] },
        // Key attributes must be listed too, or DynamoDB cannot address the item.
        'ForAllValues:StringEquals': {
          'dynamodb:Attributes': [directoryKey.partitionKey.name, directoryKey.sortKey.name, 'passwordHash'],
        },
      },
    },
    { table: 'mailboxes', actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'] },
    {
      table: 'messages',
      actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
    },
    { table: 'messages', index: 'byModseq', actions: ['Query'] },
    { table: 'changes', actions: ['PutItem', 'Query'] },
    { table: 'leases', actions: ['PutItem', 'UpdateItem', 'DeleteItem'] },
    { table: 'queue', actions: ['PutItem'] },
  ],
  messageObjects: ['PutObject', 'AbortMultipartUpload', 'GetObject', 'DeleteObject'],
  listBucket: true,
};

/** route (lib/pipeline/route.ts): getDomain, lookupAddress and getAccount, each one GetItem on the directory. */
export const ROUTE_ACCESS: ComponentAccess = {
  tables: [{ table: 'directory', actions: ['GetItem'] }],
  messageObjects: [],
  listBucket: false,
};

/** filter (lib/pipeline/filter.ts): reads the stored message once. No table. */
export const FILTER_ACCESS: ComponentAccess = {
  tables: [],
  messageObjects: ['GetObject'],
  listBucket: false,
};

/**
 * store (lib/pipeline/store.ts):
 * - directory: getAccount (quota). Reads only.
 * - mailboxes: getMailbox and the counters (GetItem), ensureDefaultMailboxes (Query, Put, Update), the append
 *   transaction (Update of counters, usage and blob counts, Put of the idempotency record) and the duplicate's
 *   record read.
 * - messages: the append's index items (Put) and a duplicate's item (GetItem, for its blob key).
 * - changes: the append's change record. objects: the IMAP summary when the filter did not send one.
 */
export const STORE_ACCESS: ComponentAccess = {
  tables: [
    { table: 'directory', actions: ['GetItem'] },
    { table: 'mailboxes', actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem'] },
    { table: 'messages', actions: ['GetItem', 'PutItem'] },
    { table: 'changes', actions: ['PutItem'] },
  ],
  messageObjects: ['GetObject'],
  listBucket: false,
};

/**
 * Sending a DSN (lib/delivery/systemMail.ts through queueWiring.ts dsnReportDeps), which deliver and
 * sesFeedback both do:
 * - a DSN to a local sender is stored as the store function stores mail (route and store run in-process):
 *   the store's grants;
 * - a DSN to a remote sender is enqueued: the entry and its idempotency record (queue PutItem), its blob
 *   reference (mailboxes PutItem, in the store's grants);
 * - objects: writes the DSN's text (PutObject), the store reads it back for the IMAP summary (GetObject).
 * A DSN's text left unused (its recipient already had it) is not deleted here: no DeleteObject.
 */
const DSN_ACCESS: ComponentAccess = {
  tables: [{ table: 'queue', actions: ['PutItem'] }, ...STORE_ACCESS.tables],
  messageObjects: ['GetObject', 'PutObject'],
  listBucket: false,
};

/**
 * deliver (lib/outbound/runner.ts over lib/storage/aws/queue.ts, and the DSNs it sends):
 * - queue: `due` queries the byState index; `claim` and `complete` update entries (conditionally), `complete`
 *   and the report's read GetItem them. No Scan; it never deletes an entry (finished ones expire by TTL,
 *   `admin queue delete` removes one).
 * - mailboxes: a finished entry drops its blob reference (`BLOB#` items only).
 * - the DSNs: DSN_ACCESS.
 * - objects: reads the queued message (and its first 64 KiB for a null sender's From). ListBucket, so a
 *   missing message answers 404 and fails its recipients instead of a 403 deferring them.
 * Secrets Manager (the DKIM keys) and SES are granted in lib/infra/functions.ts.
 */
export const DELIVER_ACCESS: ComponentAccess = {
  tables: [
    { table: 'queue', actions: ['GetItem', 'UpdateItem'] },
    { table: 'queue', index: QUEUE_STATE_INDEX, actions: ['Query'] },
    {
      table: 'mailboxes',
      actions: ['DeleteItem'],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['BLOB#*'] } },
    },
    ...DSN_ACCESS.tables,
  ],
  messageObjects: DSN_ACCESS.messageObjects,
  listBucket: true,
};

/**
 * sesFeedback (lib/outbound/sesFeedbackHandler.ts): a bounce's DSN, nothing else of storage (DSN_ACCESS).
 * SES's suppression list (ses:PutSuppressedDestination) is granted in lib/infra/ses-feedback.ts.
 */
export const SES_FEEDBACK_ACCESS: ComponentAccess = DSN_ACCESS;

/** The tables a component touches: the ones whose names it gets in its environment. */
export function tablesOf(access: ComponentAccess): TableId[] {
  return [...new Set(access.tables.map((grant) => grant.table))];
}

/** Adds one explicit statement per grant to the grantee's policy. */
export function grantAccess(grantee: iam.IGrantable, storage: Storage, access: ComponentAccess): void {
  const add = (statement: iam.PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);
  for (const grant of access.tables) {
    const tableArn = storage.tables[grant.table].tableArn;
    add(
      new iam.PolicyStatement({
        actions: grant.actions.map((action) => `dynamodb:${action}`),
        resources: [grant.index ? `${tableArn}/index/${grant.index}` : tableArn],
        conditions: grant.conditions,
      }),
    );
  }
  if (access.messageObjects.length > 0) {
    add(
      new iam.PolicyStatement({
        actions: access.messageObjects.map((action) => `s3:${action}`),
        resources: [storage.bucket.arnForObjects(`${MESSAGE_PREFIX}*`)],
      }),
    );
    acknowledgeMessageObjectGrant(grantee, storage, MESSAGE_PREFIX);
  }
  if (access.listBucket) {
    add(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [storage.bucket.bucketArn] }));
  }
}
