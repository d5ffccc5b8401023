/**
 * A stream written to S3 with bounded memory. Up to one part's worth of chunks is kept as received: a
 * stream that ends there (most messages) is one PutObject. A longer one becomes a multipart upload whose
 * parts are copied into at most `queueSize + 1` part buffers, reused from part to part (`queueSize` parts
 * upload while the next one fills), so a message of any size costs that much and makes no garbage.
 *
 * Why not @aws-sdk/lib-storage's Upload: it concatenates a new buffer for every part. Those buffers outlive
 * their upload long enough to reach V8's old space and then wait for a full GC, which external memory alone
 * only triggers some 64 MB later: a 50 MB IMAP APPEND grew the gateway's RSS by 76-105 MB (issue #8; the
 * GC trace showed scavenges only, and ArrayBuffers of 57-62 MB at the peak).
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export interface PartUploadTarget {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Octets per part (S3: at least 5 MiB but for the last). */
  readonly partSize: number;
  /** Parts uploading at once. */
  readonly queueSize: number;
}

/** Writes the stream as one object; returns its size. A failure aborts the multipart upload. */
export async function uploadStream(target: PartUploadTarget, body: Readable): Promise<number> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headSize = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) {
      const data = head.length === 1 ? head[0] : Buffer.concat(head);
      const { s3, bucket, key, contentType } = target;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentType: contentType }));
      return data.length;
    }
    head.push(next.value);
    headSize += next.value.length;
    if (headSize > target.partSize) break;
  }
  const upload = await MultipartUpload.start(target);
  try {
    // each kept chunk goes as it is copied: memory stays at the part buffers
    for (let c = head.shift(); c; c = head.shift()) await upload.write(c);
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      await upload.write(next.value);
    }
    return await upload.complete();
  } catch (err) {
    await upload.abort();
    throw err;
  }
}

class MultipartUpload {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private part: Buffer | undefined;
  private filled = 0;
  private partNumber = 0;
  private size = 0;
  private readonly done: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  private constructor(
    private readonly target: PartUploadTarget,
    private readonly uploadId: string,
  ) {}

  static async start(target: PartUploadTarget): Promise<MultipartUpload> {
    const { s3, bucket, key, contentType } = target;
    const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
    if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    return new MultipartUpload(target, out.UploadId);
  }

  /** Copies the chunk into part buffers, sending each one that fills. */
  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.part ??= await this.freeBuffer();
      const n = Math.min(this.target.partSize - this.filled, chunk.length - offset);
      chunk.copy(this.part, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.target.partSize) this.send();
    }
  }

  /** Sends the last part, waits for all, and completes the object; returns its size. */
  async complete(): Promise<number> {
    if (this.filled > 0) this.send();
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    const parts = [...this.done].sort((a, b) => a.PartNumber! - b.PartNumber!);
    const { s3, bucket, key } = this.target;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return this.size;
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    const { s3, bucket, key } = this.target;
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId }))
      .catch(() => {});
  }

  private send(): void {
    const buffer = this.part!;
    const PartNumber = ++this.partNumber;
    const { s3, bucket, key } = this.target;
    this.size += this.filled;
    const body = buffer.subarray(0, this.filled);
    this.part = undefined;
    this.filled = 0;
    const sent = s3
      .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: this.uploadId, PartNumber, Body: body }))
      .then(
        (out) => {
          if (!out.ETag) throw new Error(`part ${PartNumber} has no ETag`);
          this.done.push({ PartNumber, ETag: out.ETag });
          this.free.push(buffer);
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      )
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** A part buffer: a returned one, a new one while fewer than queueSize + 1 exist, else the next to return. */
  private async freeBuffer(): Promise<Buffer> {
    for (;;) {
      this.throwIfFailed();
      const reused = this.free.pop();
      if (reused) return reused;
      if (this.allocated < this.target.queueSize + 1) {
        this.allocated++;
        return Buffer.allocUnsafe(this.target.partSize);
      }
      await Promise.race(this.inFlight);
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
