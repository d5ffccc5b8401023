/** Multipart uploads in progress: parts on disk under the bucket's uploads/ directory, the rest in memory. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../private.ts';
import { errors } from './errors.ts';
import { discard, spoolToTemp } from './files.ts';
import { HEADER_SIZE, type ObjectMeta, type Store } from './store.ts';
import type { PartRef } from './xml.ts';

export interface Upload {
  id: string;
  bucket: string;
  key: string;
  contentType: string;
  dir: string;
  /** part number → size and MD5 (hex) */
  parts: Map<number, { size: number; md5: string }>;
}

export class Uploads {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly store: Store,
    /** Smallest part allowed but for the last; S3's is 5 MiB. */
    private readonly minPartSize: number,
  ) {}

  async create(bucket: string, key: string, contentType: string): Promise<string> {
    if (!this.store.hasBucket(bucket)) throw errors.noSuchBucket();
    const id = randomBytes(16).toString('hex');
    const dir = join(this.store.bucketDir(bucket), 'uploads', id);
    ensurePrivateDir(dir);
    this.uploads.set(id, { id, bucket, key, contentType, dir, parts: new Map() });
    return id;
  }

  /** The upload, if it exists for this bucket and key. */
  get(uploadId: string, bucket: string, key: string): Upload {
    if (!this.store.hasBucket(bucket)) throw errors.noSuchBucket();
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw errors.noSuchUpload();
    return upload;
  }

  /** Makes a temp file spooled into the upload's dir the part (replacing an earlier one); consumes the file. */
  async commitPart(upload: Upload, partNumber: number, tmpPath: string, part: { size: number; md5: string }) {
    try {
      if (!this.uploads.has(upload.id)) throw errors.noSuchUpload(); // completed or aborted meanwhile
      await rename(tmpPath, join(upload.dir, `part-${partNumber}`));
      upload.parts.set(partNumber, part);
    } catch (err) {
      await discard(tmpPath);
      throw err;
    }
  }

  /** Concatenates the listed parts into the object. The upload is over from here on, even if this fails. */
  async complete(upload: Upload, refs: PartRef[]): Promise<ObjectMeta> {
    if (refs.some((ref, i) => i > 0 && ref.partNumber <= refs[i - 1].partNumber)) throw errors.invalidPartOrder();
    const parts = refs.map((ref, i) => {
      const part = upload.parts.get(ref.partNumber);
      if (!part || part.md5 !== ref.etag) throw errors.invalidPart();
      if (i < refs.length - 1 && part.size < this.minPartSize) throw errors.entityTooSmall();
      return part;
    });
    this.uploads.delete(upload.id);
    try {
      async function* concatenated(): AsyncGenerator<Buffer> {
        for (const ref of refs) yield* createReadStream(join(upload.dir, `part-${ref.partNumber}`));
      }
      const tmpPath = await spoolToTemp(this.store.objectDir(upload.bucket, upload.key), concatenated(), HEADER_SIZE);
      const md5s = createHash('md5');
      for (const part of parts) md5s.update(Buffer.from(part.md5, 'hex'));
      return await this.store.commitObject(upload.bucket, upload.key, tmpPath, {
        size: parts.reduce((sum, part) => sum + part.size, 0),
        etag: `"${md5s.digest('hex')}-${parts.length}"`,
        contentType: upload.contentType,
      });
    } finally {
      await rm(upload.dir, { recursive: true, force: true });
    }
  }

  async abort(upload: Upload): Promise<void> {
    this.uploads.delete(upload.id);
    await rm(upload.dir, { recursive: true, force: true });
  }
}
