import type { AwsConfig } from '../../core/config.ts';
import type { Storage } from '../../core/ports.ts';
import { S3BlobStore } from './blobStore.ts';
import { makeDynamoClient, makeS3Client } from './clients.ts';
import { DynamoDirectory } from './directory.ts';
import { DynamoLeaseStore } from './leases.ts';
import { DynamoMailStore, type MailStoreOptions } from './mailStore.ts';
import { DynamoOutboundQueue } from './queue.ts';

/**
 * The storage ports on DynamoDB and S3; `mail` overrides the mail store's blob grace (the admin CLI's sweep)
 * and gives it the notifier it tells of each commit (the gateway's, for IMAP IDLE).
 */
export function createAwsStorage(
  { endpoints, names }: AwsConfig,
  mail: Pick<MailStoreOptions, 'blobGraceMs' | 'notifier'> = {},
): Storage {
  const db = makeDynamoClient(endpoints);
  const s3 = makeS3Client(endpoints);
  const blobs = new S3BlobStore(s3, names.bucket);
  return {
    directory: new DynamoDirectory(db, names),
    mail: new DynamoMailStore(db, names, { ...mail, blobs }),
    blobs,
    leases: new DynamoLeaseStore(db, names),
    queue: new DynamoOutboundQueue(db, names),
    names,
    close() {
      db.destroy();
      s3.destroy();
    },
  };
}
