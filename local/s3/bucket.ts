/** CreateBucket and HeadBucket: what ensureStorage needs (lib/storage/aws/tables.ts). */
import { errors } from './errors.ts';
import { readSmallPayload } from './payload.ts';
import { type Ctx, sendEmpty } from './respond.ts';
import type { Services } from './routes.ts';

/** Creating a bucket that exists is no error (S3's BucketAlreadyOwnedByYou is, outside us-east-1). */
export async function createBucket(ctx: Ctx, { store }: Services): Promise<void> {
  await readSmallPayload(ctx, 64 * 1024); // a CreateBucketConfiguration, if any: the region is ignored
  await store.createBucket(ctx.target.bucket);
  sendEmpty(ctx, 200, { Location: `/${ctx.target.bucket}` });
}

export async function headBucket(ctx: Ctx, { store }: Services): Promise<void> {
  if (!store.hasBucket(ctx.target.bucket)) throw errors.noSuchBucket();
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': 'us-east-1' });
}
