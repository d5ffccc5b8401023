/**
 * A MailStore of its own for a contract test file: the real adapter over DynamoDB Local and the S3
 * stand-in, with a clock the test moves (blob grace) and a notifier it can listen to.
 */
import { after } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChangeNotifier, MailboxState, Storage } from '../../lib/core/ports.ts';
import type { StorageNames } from '../../lib/core/schema.ts';
import { makeDynamoClient } from '../../lib/storage/aws/clients.ts';
import { DynamoMailStore } from '../../lib/storage/aws/mailStore.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

export interface MailFixture {
  readonly storage: Storage;
  readonly mail: DynamoMailStore;
  readonly db: DynamoDBClient;
  readonly names: StorageNames;
  /** Moves the store's clock ahead. */
  advance(ms: number): void;
  /** The store's clock. */
  now(): number;
  /** Another writer on the same tables (another session or task), sharing the clock and notifier. */
  writer(): DynamoMailStore;
  account(): string;
  inbox(accountId: string): Promise<MailboxState>;
  /** Uploads a blob and appends it. */
  appendText(
    box: { accountId: string; mailboxId: string },
    text: string,
    extra?: Record<string, unknown>,
  ): Promise<{ uid: number; blobKey: string }>;
}

export async function mailFixture(opts: { notifier?: ChangeNotifier } = {}): Promise<MailFixture> {
  const endpoints = await testEndpoints();
  const names = await freshNames(endpoints);
  const storage = createAwsStorage({ endpoints, names });
  const db = makeDynamoClient(endpoints);
  after(() => {
    storage.close();
    db.destroy();
  });
  let skew = 0;
  const now = () => Date.now() + skew;
  const writer = () => new DynamoMailStore(db, names, { blobs: storage.blobs, notifier: opts.notifier, now });
  const mail = writer();
  let n = 0;
  return {
    storage,
    mail,
    db,
    names,
    advance: (ms) => {
      skew += ms;
    },
    now,
    writer,
    account: () => `acct-${++n}-${Date.now()}`,
    async inbox(accountId) {
      await mail.ensureDefaultMailboxes(accountId);
      return (await mail.getMailbox(accountId, 'INBOX'))!;
    },
    async appendText(box, text, extra = {}) {
      const blobKey = `messages/${box.accountId}-${++n}`;
      const { size } = await storage.blobs.put(blobKey, Buffer.from(text));
      const r = await mail.append({ ...box, blobKey, blobSize: size, ...extra });
      return { uid: r.uid, blobKey };
    },
  };
}
