import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type IndexDefinition, type KeyAttribute, TABLE_IDS, TABLES, type TableId } from '../core/schema.ts';
import type { Protection } from './protection.ts';

/** INCLUDE of the declared attributes, or ALL when the schema names none. */
function projection(index: IndexDefinition): { projectionType: dynamodb.ProjectionType; nonKeyAttributes?: string[] } {
  return index.projection
    ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection] }
    : { projectionType: dynamodb.ProjectionType.ALL };
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

/** How long S3 server access logs of the message bucket are kept. */
export const ACCESS_LOG_EXPIRATION = Duration.days(90);

/**
 * The bucket for raw messages and the DynamoDB tables, built from the schema declared once in lib/core/schema.ts
 * (the emulator builds its tables from the same declarations). By default (Protection) everything here is
 * retained when the stack is deleted, and the tables refuse deletion: it is the mail.
 *
 * The message bucket is versioned: an overwritten or deleted object stays recoverable for
 * `noncurrentVersionExpiration`, then goes; its leftover delete markers go too, and so do multipart uploads a
 * crashed gateway never finished (after a day). Its server access logs go to a second bucket.
 *
 * Encryption is AWS-managed (SSE-S3, DynamoDB's default): no customer-managed KMS key. Only Postern's own
 * roles are granted the data, and each of them would need kms:Decrypt anyway, so a key would add a monthly
 * charge and a request charge per object without narrowing who reads the mail.
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;

  constructor(scope: Construct, id: string, protection: Protection) {
    super(scope, id);
    const { removalPolicy } = protection;
    // The log delivery service writes by the target's bucket policy instead of an ACL (so the target can
    // enforce bucket-owner object ownership, with ACLs off).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // SSE-S3: the log delivery service cannot write to a KMS-encrypted target.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: ACCESS_LOG_EXPIRATION }],
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Messages', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'messages/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: protection.noncurrentVersionExpiration },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
    });

    const tables = {} as Record<TableId, dynamodb.Table>;
    for (const tableId of TABLE_IDS) {
      const def = TABLES[tableId];
      const table = new dynamodb.Table(this, `Table-${tableId}`, {
        partitionKey: attribute(def.partitionKey),
        sortKey: attribute(def.sortKey),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: protection.deletionProtection,
        removalPolicy,
        ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
        ...(def.stream ? { stream: dynamodb.StreamViewType[def.stream] } : {}),
      });
      for (const index of def.indexes) {
        if (index.kind === 'local') {
          if (index.partitionKey.name !== def.partitionKey.name) {
            throw new Error(`${tableId}.${index.name}: a local index must share the table's partition key`);
          }
          table.addLocalSecondaryIndex({
            indexName: index.name,
            sortKey: attribute(index.sortKey),
            ...projection(index),
          });
        } else {
          table.addGlobalSecondaryIndex({
            indexName: index.name,
            partitionKey: attribute(index.partitionKey),
            sortKey: attribute(index.sortKey),
            ...projection(index),
          });
        }
      }
      tables[tableId] = table;
    }
    this.tables = tables;
  }
}
