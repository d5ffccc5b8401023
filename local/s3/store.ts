/**
 * Objects on disk, one file each: buckets/<bucket>/objects/<h2>/<h>.object, where <h> = sha256(key) in hex
 * and <h2> its first two characters, so keys never become paths. The file starts with the object's metadata
 * (JSON, padded to HEADER_SIZE), the bytes follow, and the key (UTF-8) ends it, for listing; objects written
 * before keys were kept there end with their bytes and are left out of listings. A write goes to a temp file in the same directory,
 * is fsynced, then renamed over the object: readers see the old object or the new one, never part of one,
 * and a reader that opened the old one keeps reading it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, makePrivate } from '../private.ts';
import { errors } from './errors.ts';
import { discard, isErrno, listDir, spoolToTemp } from './files.ts';

export interface ListedObject {
  key: string;
  meta: ObjectMeta;
}

export interface ObjectMeta {
  size: number;
  /** quoted, as S3 sends it */
  etag: string;
  contentType: string;
  /** epoch milliseconds */
  lastModified: number;
}

/** Bytes before an object's data: its metadata. */
export const HEADER_SIZE = 1024;
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!.*(?:\.\.|\.-|-\.))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Metadata file of the earlier layout (beside a separate <h>.<random>.data file). */
const OLD_METADATA = /^[0-9a-f]{64}\.json$/;

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Store {
  private readonly root: string;
  private readonly buckets = new Set<string>();

  constructor(readonly dataDir: string) {
    this.root = join(dataDir, 'buckets');
  }

  async init(): Promise<void> {
    ensurePrivateDir(this.root);
    makePrivate(this.dataDir); // data dirs of earlier versions were readable by all
    for (const bucket of await listDir(this.root)) {
      if (!BUCKET_NAME.test(bucket) || !(await stat(this.bucketDir(bucket))).isDirectory()) continue;
      // Uploads in progress do not survive a restart (their client is gone too).
      await rm(join(this.bucketDir(bucket), 'uploads'), { recursive: true, force: true });
      this.makeBucketDirs(bucket);
      for (const shard of SHARDS) await this.tidyShard(join(this.bucketDir(bucket), 'objects', shard));
      this.buckets.add(bucket);
    }
  }

  /** Removes what a crash left (temp files) and moves objects of the earlier layout into this one. */
  private async tidyShard(dir: string): Promise<void> {
    for (const name of await listDir(dir)) {
      if (OLD_METADATA.test(name)) {
        const old = JSON.parse(await readFile(join(dir, name), 'utf8'));
        const tmpPath = await spoolToTemp(dir, createReadStream(join(dir, old.dataFile)), HEADER_SIZE);
        const meta = { size: old.size, etag: old.etag, contentType: old.contentType, lastModified: old.lastModified };
        await this.commit(tmpPath, join(dir, name.replace('.json', '.object')), meta, old.key ?? '');
        await unlink(join(dir, name));
      }
    }
    for (const name of await listDir(dir)) {
      if (name.startsWith('.tmp-') || name.endsWith('.data')) await discard(join(dir, name));
    }
  }

  bucketDir(bucket: string): string {
    return join(this.root, bucket);
  }

  private makeBucketDirs(bucket: string): void {
    for (const dir of ['', 'uploads', 'objects', ...SHARDS.map((s) => `objects/${s}`)]) {
      ensurePrivateDir(join(this.bucketDir(bucket), dir));
    }
  }

  hasBucket(bucket: string): boolean {
    return this.buckets.has(bucket);
  }

  async createBucket(bucket: string): Promise<void> {
    if (!BUCKET_NAME.test(bucket)) throw errors.invalidBucketName();
    if (this.buckets.has(bucket)) return;
    this.makeBucketDirs(bucket);
    this.buckets.add(bucket);
  }

  private objectPath(bucket: string, key: string): string {
    if (!this.buckets.has(bucket)) throw errors.noSuchBucket();
    const hash = hashKey(key);
    return join(this.bucketDir(bucket), 'objects', hash.slice(0, 2), `${hash}.object`);
  }

  /** Where a new version of the object is spooled (from offset HEADER_SIZE) before commitObject. */
  objectDir(bucket: string, key: string): string {
    return join(this.objectPath(bucket, key), '..');
  }

  /** The object's metadata and a handle on it (its data starts at HEADER_SIZE), valid even if it is replaced. */
  async openObject(bucket: string, key: string): Promise<{ meta: ObjectMeta; fh: FileHandle }> {
    const fh = await open(this.objectPath(bucket, key), 'r').catch((err) => {
      throw isErrno(err, 'ENOENT') ? errors.noSuchKey() : err;
    });
    try {
      return { meta: await readMeta(fh), fh };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** The bucket's objects whose keys start with `prefix`, in no particular order (list.ts sorts them). */
  async listObjects(bucket: string, prefix: string): Promise<ListedObject[]> {
    if (!this.buckets.has(bucket)) throw errors.noSuchBucket();
    const listed: ListedObject[] = [];
    for (const shard of SHARDS) {
      const dir = join(this.bucketDir(bucket), 'objects', shard);
      const names = (await listDir(dir)).filter((name) => name.endsWith('.object'));
      for (const object of await Promise.all(names.map((name) => readListed(join(dir, name))))) {
        if (object?.key.startsWith(prefix)) listed.push(object);
      }
    }
    return listed;
  }

  /** Makes a temp file spooled into objectDir(..) the object's new version; the temp file is consumed. */
  async commitObject(
    bucket: string,
    key: string,
    tmpPath: string,
    fields: Omit<ObjectMeta, 'lastModified'>,
  ): Promise<ObjectMeta> {
    const meta = { ...fields, lastModified: Date.now() };
    await this.commit(tmpPath, this.objectPath(bucket, key), meta, key);
    return meta;
  }

  /** Writes header and key into the temp file, fsyncs it and renames it to `path`; the temp file is gone either way. */
  private async commit(tmpPath: string, path: string, meta: ObjectMeta, key: string): Promise<void> {
    try {
      const json = JSON.stringify(meta);
      if (Buffer.byteLength(json) > HEADER_SIZE) throw errors.invalidArgument('Content-Type too long');
      const header = Buffer.alloc(HEADER_SIZE, ' ');
      header.write(json);
      const fh = await open(tmpPath, 'r+');
      try {
        await fh.write(header, 0, HEADER_SIZE, 0);
        const keyBytes = Buffer.from(key, 'utf8');
        await fh.write(keyBytes, 0, keyBytes.length, HEADER_SIZE + meta.size);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmpPath, path);
    } catch (err) {
      await discard(tmpPath);
      throw err;
    }
  }

  /** Deleting a key that does not exist is no error, as in S3. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await unlink(this.objectPath(bucket, key)).catch((err) => {
      if (!isErrno(err, 'ENOENT')) throw err;
    });
  }
}

async function readMeta(fh: FileHandle): Promise<ObjectMeta> {
  const { buffer } = await fh.read(Buffer.alloc(HEADER_SIZE), 0, HEADER_SIZE, 0);
  return JSON.parse(buffer.toString('utf8')) as ObjectMeta;
}

/** An object file's key and metadata; undefined when it has no key (an older object) or is gone. */
async function readListed(path: string): Promise<ListedObject | undefined> {
  const fh = await open(path, 'r').catch((err) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(err)));
  if (!fh) return undefined;
  try {
    const meta = await readMeta(fh);
    const keyLength = (await fh.stat()).size - HEADER_SIZE - meta.size;
    if (keyLength <= 0) return undefined;
    const { buffer } = await fh.read(Buffer.alloc(keyLength), 0, keyLength, HEADER_SIZE + meta.size);
    return { key: buffer.toString('utf8'), meta };
  } finally {
    await fh.close();
  }
}
