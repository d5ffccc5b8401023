import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TemporaryError } from '../../core/errors.ts';

export type Item = Record<string, unknown>;

export const toAttr = (item: Item): Record<string, AttributeValue> =>
  marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });
export const fromAttr = (item: Record<string, AttributeValue> | undefined): Item | undefined =>
  item ? unmarshall(item) : undefined;

/** Cancellation reason codes of a failed transaction, one per item ('None' where that item was fine). */
export function cancellationCodes(err: unknown): string[] | undefined {
  if (err instanceof TransactionCanceledException || (err as Error)?.name === 'TransactionCanceledException') {
    return ((err as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  }
  return undefined;
}

export function isConditionFailure(err: unknown): boolean {
  return (err as Error)?.name === 'ConditionalCheckFailedException';
}

/** Wraps an SDK failure that is not a known outcome, so callers answer with a temporary error. */
export function temporary(what: string, err: unknown): TemporaryError {
  return new TemporaryError(`${what}: ${(err as Error)?.message ?? String(err)}`, err);
}

/** Backoff with full jitter for optimistic-concurrency retries (2, 4, 8 ... ms, capped). */
export async function backoff(attempt: number): Promise<void> {
  const cap = Math.min(200, 2 ** Math.min(attempt, 8) * 2);
  await sleep(Math.random() * cap);
}

/** Runs a query to the end, following LastEvaluatedKey. */
export async function queryAll(db: DynamoDBClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const raw of out.Items ?? []) items.push(unmarshall(raw));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
