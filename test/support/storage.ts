/**
 * Storage for a test file: the run's shared DynamoDB Local and S3 stand-in (started by test/run.ts), or, when
 * a file is run on its own, services started here for the life of the process. Each call gets a fresh
 * table prefix and bucket, so test files never see each other's data.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { randomId } from '../../lib/core/ids.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { namesWithPrefix, type StorageNames } from '../../lib/core/schema.ts';
import { makeDynamoClient, makeS3Client } from '../../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { ensureStorage } from '../../lib/storage/aws/tables.ts';

let services: Promise<AwsEndpoints> | undefined;

/** Services started for this process alone, in a child that stops them when this process goes away. */
function startOwnServices(): Promise<AwsEndpoints> {
  const script = fileURLToPath(new URL('./services.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.unref();
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stdin as unknown as { unref(): void }).unref();
      resolve(JSON.parse(line) as AwsEndpoints);
    });
    child.once('exit', (code) => reject(new Error(`test services exited (${code})`)));
  });
}

export function testEndpoints(): Promise<AwsEndpoints> {
  services ??=
    process.env.POSTERN_TEST_DYNAMODB && process.env.POSTERN_TEST_S3
      ? Promise.resolve({ dynamodb: process.env.POSTERN_TEST_DYNAMODB, s3: process.env.POSTERN_TEST_S3 })
      : startOwnServices();
  return services;
}

/** Fresh, empty tables and bucket under a unique prefix. */
export async function freshNames(endpoints: AwsEndpoints): Promise<StorageNames> {
  const names = namesWithPrefix(
    `t${randomId(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`,
  );
  const db = makeDynamoClient(endpoints);
  const s3 = makeS3Client(endpoints);
  await ensureStorage(db, s3, names);
  db.destroy();
  s3.destroy();
  return names;
}

export async function freshStorage(): Promise<Storage> {
  const endpoints = await testEndpoints();
  const storage = createAwsStorage({ endpoints, names: await freshNames(endpoints) });
  after(() => storage.close());
  return storage;
}
