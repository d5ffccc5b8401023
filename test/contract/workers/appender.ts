/**
 * A separate OS process that appends messages into one mailbox (the UID-order test runs two of these at
 * once). argv[2] is JSON: { endpoints, names, accountId, mailboxId, blobKey, blobSize, count, batch? }.
 */
import { createAwsStorage } from '../../../lib/storage/aws/storage.ts';

const job = JSON.parse(process.argv[2]);
const storage = createAwsStorage({ endpoints: job.endpoints, names: job.names });
const uids: number[] = [];
const started = performance.now();
const input = { accountId: job.accountId, mailboxId: job.mailboxId, blobKey: job.blobKey, blobSize: job.blobSize };
// batch > 1: group commits of 1..batch messages (random sizes), to mix both write paths.
const batch: number = job.batch ?? 1;
for (let done = 0; done < job.count; ) {
  const n = Math.min(job.count - done, batch === 1 ? 1 : 1 + Math.floor(Math.random() * batch));
  if (n === 1) uids.push((await storage.mail.append(input)).uid);
  else {
    for (const r of await storage.mail.appendMany(Array.from({ length: n }, () => input))) {
      if (r.status === 'rejected') throw r.reason;
      uids.push(r.value.uid);
    }
  }
  done += n;
}
const ms = performance.now() - started;
storage.close();
process.stdout.write(JSON.stringify({ uids, ms }));
