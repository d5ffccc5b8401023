import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { type IndexDefinition, type StorageNames, TABLE_IDS, TABLES, type TableDefinition } from '../../core/schema.ts';

/** The CreateTable request for one declared table (the emulator's counterpart of the CDK construct). */
export function createTableInput(def: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  for (const key of [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    attributes.set(key.name, key.type);
  }
  const keySchema = (pk: string, sk: string) => [
    { AttributeName: pk, KeyType: 'HASH' as const },
    { AttributeName: sk, KeyType: 'RANGE' as const },
  ];
  const projection = (i: IndexDefinition) =>
    i.projection
      ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...i.projection] }
      : { ProjectionType: 'ALL' as const };
  const local = def.indexes.filter((i) => i.kind === 'local');
  const global = def.indexes.filter((i) => i.kind === 'global');
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(def.partitionKey.name, def.sortKey.name),
    StreamSpecification: def.stream ? { StreamEnabled: true, StreamViewType: def.stream } : undefined,
    LocalSecondaryIndexes: local.length
      ? local.map((i) => ({
          IndexName: i.name,
          KeySchema: keySchema(i.partitionKey.name, i.sortKey.name),
          Projection: projection(i),
        }))
      : undefined,
    GlobalSecondaryIndexes: global.length
      ? global.map((i) => ({
          IndexName: i.name,
          KeySchema: keySchema(i.partitionKey.name, i.sortKey.name),
          Projection: projection(i),
        }))
      : undefined,
  };
}

/** Creates every declared table and the bucket if missing (emulator and tests; in AWS the CDK stack does this). */
export async function ensureStorage(db: DynamoDBClient, s3: S3Client, names: StorageNames): Promise<void> {
  await Promise.all(
    TABLE_IDS.map(async (id) => {
      const def = TABLES[id];
      const name = names.tables[id];
      try {
        await db.send(new CreateTableCommand(createTableInput(def, name)));
        if (def.ttlAttribute) {
          await db.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
            }),
          );
        }
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
      const { Table } = await db.send(new DescribeTableCommand({ TableName: name }));
      // a table made before its stream was declared gets it now (data directories of older emulators)
      if (def.stream && !Table?.StreamSpecification?.StreamEnabled) {
        await db.send(
          new UpdateTableCommand({
            TableName: name,
            StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream },
          }),
        );
      }
    }),
  );
  try {
    await s3.send(new HeadBucketCommand({ Bucket: names.bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  }
}
