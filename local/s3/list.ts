/** ListObjectsV2 (prefix, max-keys, continuation-token): what the blob sweep's listing sends. */
import { errors } from './errors.ts';
import { type Ctx, sendXml } from './respond.ts';
import type { Services } from './routes.ts';
import type { ListedObject } from './store.ts';
import { xmlDocument } from './xml.ts';

/** S3's page size, and its cap on max-keys. */
const MAX_KEYS = 1000;

function maxKeysOf(raw: string | undefined): number {
  if (raw === undefined) return MAX_KEYS;
  if (!/^\d{1,10}$/.test(raw)) throw errors.invalidArgument('Provided max-keys not an integer or within integer range');
  return Math.min(Number(raw), MAX_KEYS);
}

/** The token is the last key of the page before (opaque to clients, as S3's are). */
const tokenOf = (key: Buffer) => key.toString('base64url');

function startAfterOf(token: string | undefined): Buffer | undefined {
  if (token === undefined) return undefined;
  const key = Buffer.from(token, 'base64url');
  if (token === '' || tokenOf(key) !== token) {
    throw errors.invalidArgument('The continuation token provided is incorrect');
  }
  return key;
}

export async function listObjectsV2(ctx: Ctx, { store }: Services): Promise<void> {
  const { bucket, query } = ctx.target;
  const prefix = query.get('prefix') ?? '';
  const maxKeys = maxKeysOf(query.get('max-keys'));
  const token = query.get('continuation-token');
  const startAfter = startAfterOf(token);
  // UTF-8 binary order, as S3 lists (not JavaScript's UTF-16 order)
  const sorted = (await store.listObjects(bucket, prefix))
    .map((object) => ({ object, bytes: Buffer.from(object.key, 'utf8') }))
    .filter(({ bytes }) => startAfter === undefined || Buffer.compare(bytes, startAfter) > 0)
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const page = sorted.slice(0, maxKeys);
  const truncated = maxKeys > 0 && sorted.length > page.length;
  const contents = (object: ListedObject) => ({
    Key: object.key,
    LastModified: new Date(object.meta.lastModified).toISOString(),
    ETag: object.meta.etag,
    Size: String(object.meta.size),
    StorageClass: 'STANDARD',
  });
  const xml = xmlDocument('ListBucketResult', {
    Name: bucket,
    Prefix: prefix,
    KeyCount: String(page.length),
    MaxKeys: String(maxKeys),
    IsTruncated: String(truncated),
    ...(token !== undefined && { ContinuationToken: token }),
    ...(truncated && { NextContinuationToken: tokenOf(page[page.length - 1].bytes) }),
    Contents: page.map(({ object }) => contents(object)),
  });
  sendXml(ctx, 200, xml);
}
