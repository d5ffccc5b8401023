import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type IndexDefinition, type KeyAttribute, TABLE_IDS, TABLES, type TableId } from '../core/schema.ts';

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

/**
 * The bucket for raw messages and the DynamoDB tables, built from the schema declared once in lib/core/schema.ts
 * (the emulator builds its tables from the same declarations). Everything here is retained when the stack is
 * deleted: it is the mail.
 */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.bucket = new s3.Bucket(this, 'Messages', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const tables = {} as Record<TableId, dynamodb.Table>;
    for (const tableId of TABLE_IDS) {
      const def = TABLES[tableId];
      const table = new dynamodb.Table(this, `Table-${tableId}`, {
        partitionKey: attribute(def.partitionKey),
        sortKey: attribute(def.sortKey),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: RemovalPolicy.RETAIN,
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
