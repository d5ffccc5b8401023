/**
 * A separate OS process that appends messages into one mailbox (the UID-order test runs two of these at
 * once). argv[2] is JSON: { endpoints, names, accountId, mailboxId, blobKey, blobSize, count }.
 */
import { createAwsStorage } from '../../../lib/storage/storage.ts';

const job = JSON.parse(process.argv[2]);
const storage = createAwsStorage(job.endpoints, job.names);
const uids: number[] = [];
const started = performance.now();
for (let i = 0; i < job.count; i++) {
  const r = await storage.mail.append({
    accountId: job.accountId,
    mailboxId: job.mailboxId,
    blobKey: job.blobKey,
    blobSize: job.blobSize,
  });
  uids.push(r.uid);
}
const ms = performance.now() - started;
storage.close();
process.stdout.write(JSON.stringify({ uids, ms }));
