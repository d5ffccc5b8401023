/**
 * The S3 stand-in in a process of its own, for the POP3 benchmark: so its CPU can be measured apart from the
 * load generator, and so the two do not share one event loop (in AWS, S3 is a service of its own too).
 *
 * Input: POSTERN_S3_PROCESS = JSON {dataDir}. Output: one JSON line on stdout, {"pid": n, "endpoint": "..."}.
 * SIGTERM closes it, and so does the end of stdin (the parent went away).
 */
import { LOCAL_CREDENTIALS } from '../../lib/storage/aws/clients.ts';
import { startS3Server } from '../../local/s3/server.ts';

const input = JSON.parse(process.env.POSTERN_S3_PROCESS ?? 'null') as { dataDir: string } | null;
if (!input) throw new Error('POSTERN_S3_PROCESS is not set');

const server = await startS3Server({ dataDir: input.dataDir, credentials: LOCAL_CREDENTIALS });
process.stdout.write(`${JSON.stringify({ pid: process.pid, endpoint: server.endpoint })}\n`);

const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
// The parent holds our stdin open: when it dies without stopping us, stdin ends and we go too.
process.stdin.on('end', stop).resume();
