/**
 * The emulator's stand-in for Lambda's DynamoDB Streams event source mapping: reads the changes table's stream
 * on DynamoDB Local (which implements the Streams API) and hands each batch to the notify function's own code
 * (relayChanges), which finds the gateways by their presence records and sends them UDP notices on loopback.
 * Like the mapping, it starts at the stream's end, follows shards as they close and open, and runs one batch at
 * a time per shard; a failed batch is skipped, not retried (the gateways' backstop catches up).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { AwsEndpoints } from '../lib/core/config.ts';
import type { Logger } from '../lib/core/log.ts';
import type { StorageNames } from '../lib/core/schema.ts';
import { DynamoPresenceStore } from '../lib/storage/aws/changeFeedPresence.ts';
import { type ChangeStreamRecord, type RelayDeps, relayChanges } from '../lib/storage/aws/changeFeedRelay.ts';
import { LOCAL_CREDENTIALS } from '../lib/storage/aws/clients.ts';
import { NoticeSender } from '../lib/storage/changeFeedUdp.ts';

export interface ChangeStreamPoller {
  /** Batches relayed so far (tests). */
  readonly batches: number;
  stop(): Promise<void>;
}

/** Lambda polls a stream shard about four times a second; a little faster here costs nothing. */
const POLL_MS = 100;
/** How often the shard list is read again for shards opened since. */
const DESCRIBE_EVERY_MS = 5_000;

export interface PollerOptions {
  readonly endpoints: AwsEndpoints;
  readonly names: StorageNames;
  /** The emulator's DynamoDB client (for the stream's ARN and the presence records). */
  readonly db: DynamoDBClient;
  readonly log?: Logger;
  /** Overrides the relay (tests watch what it is given); default relayChanges with presence and UDP. */
  readonly relay?: (records: ChangeStreamRecord[]) => Promise<unknown>;
}

export async function startChangeStreamPoller(opts: PollerOptions): Promise<ChangeStreamPoller> {
  const table = await opts.db.send(new DescribeTableCommand({ TableName: opts.names.tables.changes }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`${opts.names.tables.changes} has no stream (ensureStorage enables it)`);
  const streams = new DynamoDBStreamsClient({
    region: opts.endpoints.region ?? 'us-east-1',
    endpoint: opts.endpoints.dynamodb,
    credentials: LOCAL_CREDENTIALS,
  });
  const sender = new NoticeSender();
  const deps: RelayDeps = { presence: new DynamoPresenceStore(opts.db, opts.names), sender, log: opts.log };
  const relay = opts.relay ?? ((records: ChangeStreamRecord[]) => relayChanges(records, deps));

  /**
   * Per shard, the last sequence number read. DynamoDB Local's iterators go stale when kept across empty reads
   * (TrimmedDataAccessException after some seconds), so every poll asks for a fresh one after that number
   * (from the shard's start while nothing was read yet).
   */
  const shards = new Map<string, { lastSeq?: string }>();
  const iteratorAfter = async (shardId: string, lastSeq: string | undefined) =>
    (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: lastSeq ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
          SequenceNumber: lastSeq,
        }),
      )
    ).ShardIterator;
  /** Reads a shard to its current end; relays what it read unless `skip` (records from before the start). */
  const readShard = async (shardId: string, skip: boolean) => {
    const state = shards.get(shardId);
    if (!state) return;
    let iterator = await iteratorAfter(shardId, state.lastSeq);
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
      const records = page.Records ?? [];
      if (records.length === 0) {
        if (!page.NextShardIterator) shards.delete(shardId); // closed and read: its children are described next
        return;
      }
      state.lastSeq = records[records.length - 1].dynamodb?.SequenceNumber ?? state.lastSeq;
      if (!skip) {
        batches += 1;
        await relay(records as ChangeStreamRecord[]).catch((err) => opts.log?.warn('change relay failed', { err }));
      }
      iterator = page.NextShardIterator;
    }
  };
  /** Shards already there at start are read to their end without relaying; shards opened later from their start. */
  const discover = async (atStart: boolean) => {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId;
      if (!id || seen.has(id)) continue;
      seen.add(id);
      if (atStart && shard.SequenceNumberRange?.EndingSequenceNumber) continue; // closed before us
      shards.set(id, {});
      if (atStart) await readShard(id, true);
    }
  };
  const seen = new Set<string>();
  let batches = 0;
  await discover(true);

  let stopped = false;
  const loop = (async () => {
    let lastDescribe = Date.now();
    while (!stopped) {
      await Promise.all(
        [...shards.keys()].map((id) =>
          readShard(id, false).catch((err) => opts.log?.warn('change stream read failed', { err, shardId: id })),
        ),
      );
      if (Date.now() - lastDescribe >= DESCRIBE_EVERY_MS || shards.size === 0) {
        lastDescribe = Date.now();
        await discover(false).catch((err) => opts.log?.warn('change stream describe failed', { err }));
      }
      await sleep(POLL_MS);
    }
  })();

  return {
    get batches() {
      return batches;
    },
    async stop() {
      stopped = true;
      await loop;
      sender.close();
      streams.destroy();
    },
  };
}
