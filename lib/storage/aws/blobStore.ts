import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NotFoundError, TemporaryError } from '../../core/errors.ts';
import type { BlobCandidate, BlobStore, ByteRange } from '../../core/ports.ts';
import { uploadStream } from './partUpload.ts';

/** Multipart part size (S3's minimum part is 5 MiB): partUpload.ts holds queueSize + 1 of them at most. */
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
    try {
      const target = { s3: this.s3, bucket: this.bucket, key, contentType, partSize: PART_SIZE, queueSize: QUEUE_SIZE };
      const size = await uploadStream(target, Buffer.isBuffer(body) ? Readable.from([body]) : body);
      return { size };
    } catch (err) {
      throw new TemporaryError(`blob upload failed: ${(err as Error).message}`, err);
    }
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
