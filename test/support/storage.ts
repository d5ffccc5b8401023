/**
 * Storage for a test file: the run's shared DynamoDB Local and S3 stand-in (started by test/run.ts), or, when
 * a file is run on its own, services started here for the life of the process. Each call gets a fresh
 * table prefix and bucket, so test files never see each other's data.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { randomId } from '../../lib/core/ids.ts';
import { namesWithPrefix, type StorageNames } from '../../lib/core/schema.ts';
import { type AwsEndpoints, makeDynamoClient, makeS3Client } from '../../lib/storage/aws/clients.ts';
import { ensureStorage } from '../../lib/storage/aws/tables.ts';
import { createAwsStorage, type Storage } from '../../lib/storage/storage.ts';
import { startDynamoDbLocal } from '../../local/dynamodb.ts';
import { startS3Server } from '../../local/s3/server.ts';

let services: Promise<AwsEndpoints> | undefined;

export function testEndpoints(): Promise<AwsEndpoints> {
  services ??= (async () => {
    if (process.env.POSTERN_TEST_DYNAMODB && process.env.POSTERN_TEST_S3) {
      return { dynamodb: process.env.POSTERN_TEST_DYNAMODB, s3: process.env.POSTERN_TEST_S3 };
    }
    const [dynamo, s3] = await Promise.all([
      startDynamoDbLocal(),
      startS3Server({ dataDir: mkdtempSync(join(tmpdir(), 'postern-s3-')) }),
    ]);
    after(async () => {
      await Promise.all([dynamo.stop(), s3.close()]);
    });
    return { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  })();
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
  const storage = createAwsStorage(endpoints, await freshNames(endpoints));
  after(() => storage.close());
  return storage;
}
