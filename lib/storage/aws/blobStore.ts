import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError, TemporaryError } from '../../core/errors.ts';
import type { BlobCandidate, BlobStore, ByteRange } from '../../core/ports.ts';

/** Multipart part size: the upload holds at most queueSize parts in memory (S3's minimum part is 5 MiB). */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Keys per listing page: S3's most. */
const LIST_PAGE_SIZE = 1000;

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    err instanceof NoSuchKey ||
    err instanceof NotFound ||
    e?.name === 'NoSuchKey' ||
    e?.$metadata?.httpStatusCode === 404
  );
}

export class S3BlobStore implements BlobStore {
  // queueSize parts upload while the next one fills
  readonly putMemoryBytes = (QUEUE_SIZE + 1) * PART_SIZE;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** Tests list with small pages to cross page boundaries. */
    private readonly listPageSize = LIST_PAGE_SIZE,
  ) {}

  async put(key: string, body: Buffer | Readable, contentType = 'message/rfc822'): Promise<{ size: number }> {
    let size = 0;
    if (Buffer.isBuffer(body)) size = body.length;
    else body.on('data', (chunk: Buffer) => (size += chunk.length));
    try {
      const upload = new Upload({
        client: this.s3,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (err) {
      throw new TemporaryError(`blob upload failed: ${(err as Error).message}`, err);
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(`no blob ${key}`);
      throw new TemporaryError(`blob read failed: ${(err as Error).message}`, err);
    }
  }

  async head(key: string): Promise<number | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw new TemporaryError(`blob head failed: ${(err as Error).message}`, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw new TemporaryError(`blob delete failed: ${(err as Error).message}`, err);
    }
  }

  async *list(prefix: string): AsyncGenerator<BlobCandidate> {
    const pages = paginateListObjectsV2(
      { client: this.s3, pageSize: this.listPageSize },
      { Bucket: this.bucket, Prefix: prefix },
    );
    const next = () =>
      pages.next().catch((err) => {
        throw new TemporaryError(`blob listing failed: ${(err as Error).message}`, err);
      });
    for (let page = await next(); !page.done; page = await next()) {
      for (const object of page.value.Contents ?? []) {
        // S3 always sends both; an entry without them is not one to judge
        if (object.Key !== undefined && object.LastModified !== undefined) {
          yield { key: object.Key, lastModified: object.LastModified.getTime() };
        }
      }
    }
  }
}
