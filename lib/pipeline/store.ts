/**
 * The store step: one message (already in S3) into each recipient's mailbox.
 *
 * - Atomic UID allocation and quota accounting are MailStore.append's (one DynamoDB transaction per copy).
 * - Exactly once: every append carries the request's idempotencyKey, so a retried store (a Lambda retry, the
 *   gateway retrying after a lost response, or a client resending the same message) finds the copies already
 *   made and makes only the missing ones. Partial progress is therefore never a problem: a retry completes it.
 * - Quota (policy): the RCPT check refuses an account already at or over its quota (452 4.2.2). At delivery
 *   a copy is accepted while the account's usage before it is within quota, so one accepted message may take
 *   the account past its quota, never further (the check is DynamoDB's, atomic with the append). An account
 *   that filled up between RCPT and DATA is reported as failed 'quota'; the gateway then answers the whole
 *   transaction 452 4.2.2 (SMTP has one reply to DATA), and the client's retry lands once for the others.
 * - The IMAP summary: taken from the request (the filter computed it in its read) or computed here by
 *   reading the blob; each copy's offsets are shifted by its own header prefix.
 */
import { NotFoundError, QuotaExceededError } from '../core/errors.ts';
import type { Storage } from '../storage/storage.ts';
import { boundSummary, forCopy, type MessageSummary, SummaryBuilder } from '../mime/summary.ts';
import type { StoreRequest, StoreResult } from './contracts.ts';

export type { StoreRequest, StoreResult } from './contracts.ts';

/** Appends in parallel to this many mailboxes at once. */
const CONCURRENCY = 8;

async function summaryOf(storage: Storage, req: StoreRequest): Promise<MessageSummary> {
  if (req.summary) return req.summary;
  const builder = new SummaryBuilder();
  for await (const chunk of (await storage.blobs.get(req.blobKey)) as AsyncIterable<Buffer>) builder.write(chunk);
  return builder.end();
}

export async function store(storage: Storage, req: StoreRequest): Promise<StoreResult> {
  const summary = await summaryOf(storage, req);
  const delivered: StoreResult['delivered'][number][] = [];
  const failed: StoreResult['failed'][number][] = [];
  // one copy per account and mailbox, whatever the recipient list repeats
  const seen = new Set<string>();
  const deliveries = req.deliveries.filter((d) => {
    const key = `${d.accountId}\0${d.mailbox ?? 'INBOX'}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });

  const deliverOne = async (d: StoreRequest['deliveries'][number]) => {
    const account = await storage.directory.getAccount(d.accountId);
    if (!account) {
      failed.push({ accountId: d.accountId, reason: 'no-account' });
      return;
    }
    const name = d.mailbox ?? 'INBOX';
    let mailbox = await storage.mail.getMailbox(d.accountId, name);
    if (!mailbox) {
      await storage.mail.ensureDefaultMailboxes(d.accountId);
      mailbox = (await storage.mail.getMailbox(d.accountId, name)) ?? (await storage.mail.getMailbox(d.accountId, 'INBOX'));
      if (!mailbox) throw new NotFoundError(`no mailbox ${name} for ${d.accountId}`);
    }
    const size = req.blobSize + Buffer.byteLength(d.headerPrefix);
    try {
      const result = await storage.mail.append({
        accountId: d.accountId,
        mailboxId: mailbox.mailboxId,
        blobKey: req.blobKey,
        blobSize: req.blobSize,
        headerPrefix: d.headerPrefix,
        internalDate: req.internalDate,
        summary: boundSummary(forCopy(summary, d.headerPrefix)),
        idempotencyKey: req.idempotencyKey,
        // within quota before this copy (see the policy above)
        quotaBytes: account.quotaBytes > 0 ? account.quotaBytes + size : 0,
      });
      delivered.push({ accountId: d.accountId, mailbox: mailbox.name, uid: result.uid, duplicate: result.duplicate });
    } catch (err) {
      if (err instanceof QuotaExceededError) failed.push({ accountId: d.accountId, reason: 'quota' });
      else throw err;
    }
  };

  const queue = [...deliveries];
  const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let d = queue.shift(); d; d = queue.shift()) await deliverOne(d);
  });
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return { delivered, failed };
}
