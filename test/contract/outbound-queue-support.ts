/**
 * A queue of its own for a contract test file: the real DynamoDB adapter over DynamoDB Local, with a clock the
 * test moves (claims and due times), and entries to enqueue.
 */
import { after } from 'node:test';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { ulid } from '../../lib/core/ids.ts';
import type { QueueEntryInput } from '../../lib/core/outbound.ts';
import type { Storage } from '../../lib/core/ports.ts';
import type { StorageNames } from '../../lib/core/schema.ts';
import { makeDynamoClient } from '../../lib/storage/aws/clients.ts';
import { DynamoOutboundQueue } from '../../lib/storage/aws/queue.ts';
import { freshStorage, testEndpoints } from '../support/storage.ts';

export interface QueueFixture {
  readonly storage: Storage;
  readonly endpoints: AwsEndpoints;
  readonly names: StorageNames;
  readonly queue: DynamoOutboundQueue;
  /** Another runner's queue on the same table and clock (another Lambda container). */
  other(): DynamoOutboundQueue;
  now(): number;
  advance(ms: number): void;
}

export async function queueFixture(): Promise<QueueFixture> {
  const storage = await freshStorage();
  const { names } = storage;
  const endpoints = await testEndpoints();
  const db = makeDynamoClient(endpoints);
  after(() => db.destroy());
  let skew = 0;
  const now = () => Date.now() + skew;
  return {
    storage,
    endpoints,
    names,
    queue: new DynamoOutboundQueue(db, names, now),
    other: () => new DynamoOutboundQueue(db, names, now),
    now,
    advance: (ms) => {
      skew += ms;
    },
  };
}

/** An entry for `domain` with the given recipients (local parts), its blob under messages/. */
export function entryInput(domain: string, locals: readonly string[], extra: Partial<QueueEntryInput> = {}) {
  const id = ulid();
  return {
    id,
    domain,
    mailFrom: 'alice@example.org',
    blobKey: `messages/${id}`,
    headerPrefix: '',
    size: 100,
    recipients: locals.map((l) => ({ address: `${l}@${domain}` })),
    ...extra,
  } satisfies QueueEntryInput;
}

/** Every entry the operator's listing gives. */
export async function listAll(queue: { list(): AsyncIterable<{ id: string }> }): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of queue.list()) ids.push(e.id);
  return ids;
}
