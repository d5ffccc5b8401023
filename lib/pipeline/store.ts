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
import type { Account, AppendInput, AppendResult, MailboxState, Storage } from '../core/ports.ts';
import { boundSummary, forCopy, type MessageSummary, SummaryBuilder } from '../mime/summary.ts';
import type { StoreBatchRequest, StoreBatchResult, StoreRequest, StoreResult } from './contracts.ts';

export type { StoreBatchRequest, StoreBatchResult, StoreRequest, StoreResult } from './contracts.ts';

/** Group commits to this many mailboxes at once. */
const CONCURRENCY = 8;
/**
 * How long an account (its quota) and a mailbox name -> id mapping are reused within one container. A quota
 * change takes effect within this time; a deleted or renamed mailbox is noticed at once (the append fails
 * with NotFoundError, the entry is dropped and the lookup repeated).
 */
const CACHE_MS = 10_000;

class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();
  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e || Date.now() - e.at > CACHE_MS) return undefined;
    return e.value;
  }
  set(key: string, value: T): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { at: Date.now(), value });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
}

const caches = new WeakMap<Storage, { accounts: TtlCache<Account>; mailboxes: TtlCache<MailboxState> }>();
function cachesOf(storage: Storage) {
  let c = caches.get(storage);
  if (!c) {
    c = { accounts: new TtlCache(), mailboxes: new TtlCache() };
    caches.set(storage, c);
  }
  return c;
}

async function summaryOf(storage: Storage, req: StoreRequest): Promise<MessageSummary> {
  if (req.summary) return req.summary;
  const builder = new SummaryBuilder();
  for await (const chunk of (await storage.blobs.get(req.blobKey)) as AsyncIterable<Buffer>) builder.write(chunk);
  return builder.end();
}

/** One copy to make: a request's delivery resolved to its account and mailbox. */
interface CopyJob {
  readonly request: number;
  readonly accountId: string;
  readonly mailboxName: string;
  readonly mailbox: MailboxState;
  readonly input: AppendInput;
}

type Delivered = StoreResult['delivered'][number];
type Failed = StoreResult['failed'][number];

/** Stores one message: a batch of one. */
export async function store(storage: Storage, req: StoreRequest): Promise<StoreResult> {
  const { results } = await storeBatch(storage, { requests: [req] });
  return results[0];
}

/**
 * Stores several messages. Copies bound for the same mailbox become one group commit
 * (MailStore.appendMany): one transaction for many messages instead of many transactions racing for the
 * same UIDNEXT. Each request gets its own result; a storage failure fails only the requests it touched.
 */
export async function storeBatch(storage: Storage, batch: StoreBatchRequest): Promise<StoreBatchResult> {
  const cache = cachesOf(storage);
  const delivered: Delivered[][] = batch.requests.map(() => []);
  const failed: Failed[][] = batch.requests.map(() => []);

  const accountOf = async (accountId: string) => {
    const hit = cache.accounts.get(accountId);
    if (hit) return hit;
    const account = await storage.directory.getAccount(accountId);
    if (account) cache.accounts.set(accountId, account);
    return account;
  };
  const mailboxOf = async (accountId: string, name: string) => {
    const key = `${accountId}\0${name}`;
    const hit = cache.mailboxes.get(key);
    if (hit) return hit;
    let mailbox = await storage.mail.getMailbox(accountId, name);
    if (!mailbox) {
      await storage.mail.ensureDefaultMailboxes(accountId);
      mailbox = (await storage.mail.getMailbox(accountId, name)) ?? (await storage.mail.getMailbox(accountId, 'INBOX'));
      if (!mailbox) throw new NotFoundError(`no mailbox ${name} for ${accountId}`);
    }
    cache.mailboxes.set(key, mailbox);
    return mailbox;
  };

  const jobs: CopyJob[] = [];
  await Promise.all(
    batch.requests.map(async (req, request) => {
      const summary = await summaryOf(storage, req);
      // one copy per account and mailbox, whatever the recipient list repeats
      const seen = new Set<string>();
      for (const d of req.deliveries) {
        const mailboxName = d.mailbox ?? 'INBOX';
        const key = `${d.accountId}\0${mailboxName}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const account = await accountOf(d.accountId);
        if (!account) {
          failed[request].push({ accountId: d.accountId, reason: 'no-account' });
          continue;
        }
        const mailbox = await mailboxOf(d.accountId, mailboxName);
        const size = req.blobSize + Buffer.byteLength(d.headerPrefix);
        jobs.push({
          request,
          accountId: d.accountId,
          mailboxName,
          mailbox,
          input: {
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
          },
        });
      }
    }),
  );

  const settle = async (job: CopyJob, outcome: PromiseSettledResult<AppendResult>, retried: boolean) => {
    if (outcome.status === 'fulfilled') {
      const result = outcome.value;
      const requestBlob = batch.requests[job.request].blobKey;
      // a duplicate may be backed by this request's blob (an earlier attempt of the same transaction) or by
      // the blob of an earlier transaction (a client resend): the gateway must know before deleting anything
      const blobKey = result.duplicate
        ? ((await storage.mail.getMessage(job.mailbox, result.uid))?.blobKey ?? requestBlob)
        : requestBlob;
      delivered[job.request].push({
        accountId: job.accountId,
        mailbox: job.mailbox.name,
        uid: result.uid,
        duplicate: result.duplicate,
        blobKey,
      });
    } else if (outcome.reason instanceof QuotaExceededError) {
      failed[job.request].push({ accountId: job.accountId, reason: 'quota' });
    } else if (outcome.reason instanceof NotFoundError && !retried) {
      // the cached mailbox is gone (deleted or renamed): look it up again, once
      cache.mailboxes.delete(`${job.accountId}\0${job.mailboxName}`);
      const mailbox = await mailboxOf(job.accountId, job.mailboxName);
      const again = { ...job, mailbox, input: { ...job.input, mailboxId: mailbox.mailboxId } };
      const [outcomeAgain] = await Promise.allSettled([storage.mail.append(again.input)]);
      await settle(again, outcomeAgain, true);
    } else {
      failed[job.request].push({ accountId: job.accountId, reason: 'temporary' });
    }
  };

  const groups = new Map<string, CopyJob[]>();
  for (const job of jobs) {
    const group = groups.get(job.input.mailboxId) ?? [];
    group.push(job);
    groups.set(job.input.mailboxId, group);
  }
  const queue = [...groups.values()];
  const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      let outcomes: PromiseSettledResult<AppendResult>[];
      try {
        outcomes = await storage.mail.appendMany(group.map((j) => j.input));
      } catch (err) {
        outcomes = group.map(() => ({ status: 'rejected', reason: err }));
      }
      for (const [i, job] of group.entries()) await settle(job, outcomes[i], false);
    }
  });
  await Promise.all(workers);
  return { results: batch.requests.map((_, i) => ({ delivered: delivered[i], failed: failed[i] })) };
}
