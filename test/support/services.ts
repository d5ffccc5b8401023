/**
 * The storage services a test run needs: DynamoDB Local (in memory) and the S3 stand-in on a temp dir.
 * `npm test` (test/run.ts) starts them once for the run. Run as a script, this file starts them for a single
 * test file started on its own, prints their endpoints as one JSON line, and stops them when its stdin closes
 * (that is, when the test process that spawned it exits, however it exits).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { LOCAL_CREDENTIALS } from '../../lib/storage/aws/clients.ts';
import { startDynamoDbLocal } from '../../local/dynamodb.ts';
import { startS3Server } from '../../local/s3/server.ts';

export interface TestServices {
  readonly endpoints: AwsEndpoints;
  stop(): Promise<void>;
}

export async function startTestServices(): Promise<TestServices> {
  const s3Dir = mkdtempSync(join(tmpdir(), 'postern-test-s3-'));
  const [dynamo, s3] = await Promise.all([
    startDynamoDbLocal(),
    startS3Server({ dataDir: s3Dir, credentials: LOCAL_CREDENTIALS }),
  ]);
  return {
    endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint },
    async stop() {
      await Promise.all([dynamo.stop(), s3.close()]);
      rmSync(s3Dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const services = await startTestServices();
  process.stdout.write(`${JSON.stringify(services.endpoints)}\n`);
  process.stdin.resume();
  process.stdin.once('end', async () => {
    await services.stop();
    process.exit(0);
  });
}
