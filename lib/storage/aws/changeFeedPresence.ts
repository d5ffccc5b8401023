/**
 * Presence records of the gateway tasks, in the leases table's PRESENCE partition: one item per task with the
 * address and UDP port of its notice listener and an expiry. A task refreshes its record while it runs and
 * removes it when it stops; one that dies simply stops refreshing, and readers skip expired records (TTL
 * deletes them later, whenever DynamoDB gets to it).
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { PRESENCE_PARTITION, type StorageNames } from '../../core/schema.ts';
import { fromAttr, temporary, toAttr } from './dynamo.ts';

export interface GatewayPresence {
  /** Unique per process (a task id, or a fresh id per start). */
  readonly taskId: string;
  readonly address: string;
  readonly port: number;
}

export class DynamoPresenceStore {
  private readonly table: string;

  constructor(
    private readonly db: DynamoDBClient,
    names: StorageNames,
    private readonly now: () => number = Date.now,
  ) {
    this.table = names.tables.leases;
  }

  /** Writes (or refreshes) the task's record, live for `ttlMs` from now. */
  async announce(presence: GatewayPresence, ttlMs: number): Promise<void> {
    const expiresAtMs = this.now() + ttlMs;
    const item = {
      pk: PRESENCE_PARTITION,
      sk: presence.taskId,
      address: presence.address,
      port: presence.port,
      expiresAtMs,
      expiresAt: Math.ceil(expiresAtMs / 1000) + 60,
    };
    try {
      await this.db.send(new PutItemCommand({ TableName: this.table, Item: toAttr(item) }));
    } catch (err) {
      throw temporary('presence announce failed', err);
    }
  }

  async withdraw(taskId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({ TableName: this.table, Key: toAttr({ pk: PRESENCE_PARTITION, sk: taskId }) }),
      );
    } catch (err) {
      throw temporary('presence withdraw failed', err);
    }
  }

  /**
   * The tasks whose record has not expired: one eventually consistent Query of the partition (a task announced
   * a moment ago may be missing; it refreshes well within its TTL and its backstop covers the gap).
   */
  async live(): Promise<GatewayPresence[]> {
    const found: GatewayPresence[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'expiresAtMs > :now',
            ExpressionAttributeValues: toAttr({ ':pk': PRESENCE_PARTITION, ':now': this.now() }),
            ProjectionExpression: 'sk, address, #p',
            ExpressionAttributeNames: { '#p': 'port' },
            ExclusiveStartKey: start,
          }),
        );
        for (const raw of page.Items ?? []) {
          const item = fromAttr(raw) as { sk: string; address: string; port: number };
          found.push({ taskId: item.sk, address: item.address, port: item.port });
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw temporary('presence query failed', err);
    }
    return found;
  }
}
