/**
 * A separate OS process that runs one queue pass and is killed (SIGKILL, no cleanup) at a chosen step, as a
 * Lambda container dies. argv[2] is JSON: { endpoints, names, claimMs, sentFile, kill?: 'before-send' |
 * 'after-send' }. The transport appends one line per accepted message to sentFile (synchronously, so the line
 * is on disk before the kill): that file is "the next hop".
 */
import { appendFileSync } from 'node:fs';
import { silentLogger } from '../../../lib/core/log.ts';
import type { Transport } from '../../../lib/core/outbound.ts';
import { runPass } from '../../../lib/outbound/runner.ts';
import { createAwsStorage } from '../../../lib/storage/aws/storage.ts';

const job = JSON.parse(process.argv[2]);
const storage = createAwsStorage({ endpoints: job.endpoints, names: job.names });
const die = () => process.kill(process.pid, 'SIGKILL');
const transport: Transport = {
  name: 'file',
  async deliver(envelope) {
    if (job.kill === 'before-send') die();
    appendFileSync(job.sentFile, `${JSON.stringify(envelope.recipients)}\n`);
    if (job.kill === 'after-send') die();
    return envelope.recipients.map((address) => ({ address, result: 'delivered' as const, reply: '250 ok' }));
  },
};
const policy = {
  retrySchedule: [300],
  queueLifetimeMs: 86_400_000,
  delayWarningMs: 3_600_000,
  concurrency: 1,
  batchSize: 10,
  claimMs: job.claimMs,
};
const result = await runPass({ queue: storage.queue, blobs: storage.blobs, transport, policy, log: silentLogger });
storage.close();
process.stdout.write(JSON.stringify(result));
