/** Which S3 operation a request is, by method, path and query, and its handler. */
import { createBucket, headBucket } from './bucket.ts';
import { deleteObject } from './delete.ts';
import { errors } from './errors.ts';
import { getObject } from './get.ts';
import { header } from './http.ts';
import { listObjectsV2 } from './list.ts';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, uploadPart } from './multipart.ts';
import { putObject } from './put.ts';
import type { Ctx } from './respond.ts';
import type { Store } from './store.ts';
import type { Uploads } from './uploads.ts';

export interface Services {
  store: Store;
  uploads: Uploads;
}

export interface Route {
  op: string;
  handle(ctx: Ctx, services: Services): Promise<void>;
}

/** Query parameters the kept operations use (the SDK names the operation in x-id). */
const KNOWN_PARAMETERS = new Set(['x-id', 'uploads', 'uploadId', 'partNumber']);
/** ListObjectsV2's (delimiter, start-after, encoding-type and fetch-owner are not kept). */
const LIST_PARAMETERS = new Set(['x-id', 'list-type', 'prefix', 'continuation-token', 'max-keys']);
const MAX_KEY_BYTES = 1024;

const refuse = (error: () => Error): Route => ({ op: 'Unsupported', handle: () => Promise.reject(error()) });

export function route(ctx: Ctx): Route {
  const { method, target } = ctx;
  const { bucket, key, query } = target;
  const listing = method === 'GET' && bucket !== '' && key === '' && query.get('list-type') === '2';
  const known = listing ? LIST_PARAMETERS : KNOWN_PARAMETERS;
  const unknown = [...query.keys()].find((name) => !known.has(name));
  if (unknown !== undefined) return refuse(() => errors.notImplemented(`the ${unknown} parameter`));
  if (header(ctx.req, 'x-amz-copy-source') !== undefined) return refuse(() => errors.notImplemented('CopyObject'));
  if (bucket === '') return refuse(() => errors.notImplemented('ListBuckets'));
  if (key === '') {
    if (listing) return { op: 'ListObjectsV2', handle: listObjectsV2 };
    if (method === 'PUT') return { op: 'CreateBucket', handle: createBucket };
    if (method === 'HEAD') return { op: 'HeadBucket', handle: headBucket };
    return refuse(() => errors.notImplemented(`${method} on a bucket`));
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return refuse(errors.keyTooLong);
  const upload = query.has('uploadId');
  switch (method) {
    case 'PUT':
      return upload ? { op: 'UploadPart', handle: uploadPart } : { op: 'PutObject', handle: putObject };
    case 'GET':
      return upload ? refuse(() => errors.notImplemented('ListParts')) : { op: 'GetObject', handle: getObject };
    case 'HEAD':
      return { op: 'HeadObject', handle: getObject };
    case 'DELETE':
      return upload
        ? { op: 'AbortMultipartUpload', handle: abortMultipartUpload }
        : { op: 'DeleteObject', handle: deleteObject };
    case 'POST':
      if (query.has('uploads')) return { op: 'CreateMultipartUpload', handle: createMultipartUpload };
      if (upload) return { op: 'CompleteMultipartUpload', handle: completeMultipartUpload };
      return refuse(() => errors.notImplemented('POST on an object'));
    default:
      return refuse(errors.methodNotAllowed);
  }
}
