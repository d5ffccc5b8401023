import { DeleteItemCommand, type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseStore } from '../../core/ports.ts';
import type { StorageNames } from '../../core/schema.ts';
import { isConditionFailure, temporary, toAttr } from './dynamo.ts';

/**
 * Leases in the `leases` table. A lease is free when absent or when its expiry has passed, so a holder that
 * dies (a gateway task killed mid-session) frees it by simply not renewing; the TTL attribute cleans up.
 */
export class DynamoLeaseStore implements LeaseStore {
  private readonly table: string;

  constructor(
    private readonly db: DynamoDBClient,
    names: StorageNames,
    private readonly now: () => number = Date.now,
  ) {
    this.table = names.tables.leases;
  }

  private item(key: string, owner: string, ttlMs: number) {
    const expiresAtMs = this.now() + ttlMs;
    return { pk: key, sk: 'LEASE', owner, expiresAtMs, expiresAt: Math.ceil(expiresAtMs / 1000) + 60 };
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toAttr(this.item(key, owner, ttlMs)),
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs < :now OR #o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: toAttr({ ':now': this.now(), ':owner': owner }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw temporary('lease acquire failed', err);
    }
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const next = this.item(key, owner, ttlMs);
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttr({ pk: key, sk: 'LEASE' }),
          UpdateExpression: 'SET expiresAtMs = :e, expiresAt = :t',
          ConditionExpression: '#o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: toAttr({ ':e': next.expiresAtMs, ':t': next.expiresAt, ':owner': owner }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw temporary('lease renew failed', err);
    }
  }

  async release(key: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: toAttr({ pk: key, sk: 'LEASE' }),
          ConditionExpression: '#o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: toAttr({ ':owner': owner }),
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw temporary('lease release failed', err);
    }
  }
}
