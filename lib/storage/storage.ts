import type { BlobStore, Directory, LeaseStore, MailStore } from '../core/ports.ts';
import type { StorageNames } from '../core/schema.ts';
import { S3BlobStore } from './aws/blobStore.ts';
import { type AwsEndpoints, makeDynamoClient, makeS3Client } from './aws/clients.ts';
import { DynamoDirectory } from './aws/directory.ts';
import { DynamoLeaseStore } from './aws/leases.ts';
import { DynamoMailStore } from './aws/mailStore.ts';

/** Everything the gateway, the functions and the admin CLI reach storage through. */
export interface Storage {
  readonly directory: Directory;
  readonly mail: MailStore;
  readonly blobs: BlobStore;
  readonly leases: LeaseStore;
  readonly names: StorageNames;
  close(): void;
}

export function createAwsStorage(endpoints: AwsEndpoints, names: StorageNames): Storage {
  const db = makeDynamoClient(endpoints);
  const s3 = makeS3Client(endpoints);
  return {
    directory: new DynamoDirectory(db, names),
    mail: new DynamoMailStore(db, names),
    blobs: new S3BlobStore(s3, names.bucket),
    leases: new DynamoLeaseStore(db, names),
    names,
    close() {
      db.destroy();
      s3.destroy();
    },
  };
}
