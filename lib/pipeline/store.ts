import { NotFoundError } from '../core/errors.ts';
import type { Storage } from '../storage/storage.ts';

/** The store function's contract: one message (already in S3) to deliver into local accounts. */
export interface StoreRequest {
  readonly blobKey: string;
  readonly blobSize: number;
  /** Unique per received message; with the account it makes delivery idempotent. */
  readonly messageId: string;
  readonly accountIds: readonly string[];
  readonly mailbox?: string;
  readonly headerPrefix?: string;
  readonly internalDate?: number;
}

export interface StoreResult {
  readonly delivered: readonly { accountId: string; uid: number; duplicate: boolean }[];
}

/** Appends the message into each account's mailbox (INBOX by default), once per account however often retried. */
export async function store(storage: Storage, req: StoreRequest): Promise<StoreResult> {
  const delivered = [];
  for (const accountId of req.accountIds) {
    const account = await storage.directory.getAccount(accountId);
    if (!account) throw new NotFoundError(`no account ${accountId}`);
    const name = req.mailbox ?? 'INBOX';
    let mailbox = await storage.mail.getMailbox(accountId, name);
    if (!mailbox) {
      await storage.mail.ensureDefaultMailboxes(accountId);
      mailbox = await storage.mail.getMailbox(accountId, name);
      if (!mailbox) throw new NotFoundError(`no mailbox ${name}`);
    }
    const result = await storage.mail.append({
      accountId,
      mailboxId: mailbox.mailboxId,
      blobKey: req.blobKey,
      blobSize: req.blobSize,
      headerPrefix: req.headerPrefix,
      internalDate: req.internalDate,
      idempotencyKey: req.messageId,
      quotaBytes: account.quotaBytes,
    });
    delivered.push({ accountId, uid: result.uid, duplicate: result.duplicate });
  }
  return { delivered };
}
