/**
 * A separate OS process that lists a mailbox over and over while others append, and reports any UID that
 * became visible after a higher one had already been seen (DESIGN.md rule 3). argv[2] is JSON:
 * { endpoints, names, accountId, mailboxId, expected } — it stops once `expected` messages are visible.
 */
import { createAwsStorage } from '../../../lib/storage/aws/storage.ts';

const job = JSON.parse(process.argv[2]);
const storage = createAwsStorage({ endpoints: job.endpoints, names: job.names });
const seen = new Set<number>();
let maxSeen = 0;
let polls = 0;
const violations: { uid: number; maxSeenBefore: number }[] = [];
const deadline = Date.now() + 120_000;
while (seen.size < job.expected && Date.now() < deadline) {
  const listed = await storage.mail.listMessages(
    { accountId: job.accountId, mailboxId: job.mailboxId },
    { projection: 'light' },
  );
  polls++;
  let pollMax = maxSeen;
  for (const m of listed) {
    if (seen.has(m.uid)) continue;
    if (m.uid < maxSeen) violations.push({ uid: m.uid, maxSeenBefore: maxSeen });
    seen.add(m.uid);
    pollMax = Math.max(pollMax, m.uid);
  }
  maxSeen = pollMax;
}
storage.close();
process.stdout.write(JSON.stringify({ polls, seen: seen.size, violations }));
