/**
 * On-disk storage for the local S3 stand-in.
 *
 * Layout under dataDir:
 *   buckets/<bucket>/bucket.json                      bucket metadata
 *   buckets/<bucket>/objects/<h2>/<h>.json            sidecar (key, size, etag, headers, ...)
 *   buckets/<bucket>/objects/<h2>/<h>.<rand>.data     object bytes
 *   buckets/<bucket>/uploads/<uploadId>/upload.json   multipart upload
 *   buckets/<bucket>/uploads/<uploadId>/part-<n>.json / part-<n>.<rand>.data
 * where <h> = sha256(key) in hex and <h2> its first two characters, so keys
 * never become path components (no traversal, any characters allowed).
 *
 * Writes stream into a `.tmp-*` file in the destination directory, fsync,
 * rename to a fresh uniquely named data file, then atomically replace the
 * sidecar (temp + fsync + rename). The sidecar rename is the commit point: a
 * reader sees either the old or the new object, never a partial one, and a
 * failed upload leaves nothing behind. Stale temp files and unreferenced data
 * files (from a crash) are removed at startup.
 *
 * All metadata is also held in memory (loaded at startup): one process owns a
 * dataDir at a time.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fs from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChecksumAlgorithm } from './body.ts';
import { errors } from './errors.ts';
import { normalizeEtag } from './xml.ts';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  value: string;
}

export interface ObjectFields {
  size: number;
  /** quoted, e.g. "d41d8cd98f00b204e9800998ecf8427e" */
  etag: string;
  contentType: string;
  /** stored standard headers: cache-control, content-disposition, content-encoding, content-language, expires */
  headers: Record<string, string>;
  /** x-amz-meta-* values keyed by lower-case name without the prefix */
  userMetadata: Record<string, string>;
  checksum?: StoredChecksum;
  partsCount?: number;
}

export interface ObjectMeta extends ObjectFields {
  key: string;
  /** epoch milliseconds */
  lastModified: number;
  /** basename of the data file inside the shard directory */
  dataFile: string;
}

export interface WriteConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface BucketInfo {
  name: string;
  created: number;
}

interface BucketState extends BucketInfo {
  dir: string;
  objects: Map<string, ObjectMeta>;
  sorted: string[] | null;
}

export interface PartMeta {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: number;
  dataFile: string;
}

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  contentType: string;
  headers: Record<string, string>;
  userMetadata: Record<string, string>;
}

interface UploadState extends UploadInfo {
  dir: string;
  parts: Map<number, PartMeta>;
}

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  /** exclusive start key */
  startAfter?: string;
  /** skip every key starting with this (resuming after a common prefix) */
  skipPrefix?: string;
  maxKeys: number;
}

export interface ListResult {
  contents: ObjectMeta[];
  commonPrefixes: string[];
  truncated: boolean;
  /** last key or common prefix returned */
  last?: string;
  lastIsPrefix: boolean;
}

export type StoreLog = (obj: Record<string, unknown>) => void;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name)
  );
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compare strings by UTF-8 byte order (= code point order), as S3 sorts keys. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (supplementary code points) sort after U+E000..U+FFFF.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** First index whose key is >= target (or > target when `strict`). */
function searchSorted(keys: string[], target: string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid], target);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // not supported everywhere; best effort
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Write JSON atomically: temp file in the same directory, fsync, rename. */
async function writeJsonAtomic(path: string, dir: string, value: unknown): Promise<void> {
  const tmp = join(dir, `.tmp-${randomUUID()}.json`);
  const fh = await open(tmp, 'wx');
  try {
    await writeAll(fh, Buffer.from(JSON.stringify(value)));
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw err;
  }
  try {
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/**
 * The first `size` bytes of a file (fewer if it is shorter). Plain callbacks: open, read and close each cost
 * one trip to the thread pool, with none of the FileHandle / read stream machinery on top.
 */
function readWhole(path: string, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const buf = Buffer.allocUnsafe(size);
      const done = (e: NodeJS.ErrnoException | null, got: number) =>
        fs.close(fd, () => (e ? reject(e) : resolve(buf.subarray(0, got))));
      const step = (got: number) => {
        if (got >= size) return done(null, got);
        fs.read(fd, buf, got, size - got, got, (e, n) =>
          e ? done(e, got) : n === 0 ? done(null, got) : step(got + n),
        );
      };
      step(0);
    });
  });
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

export interface SpoolResult {
  tmpPath: string;
  size: number;
}

/**
 * Stream `source` into a new temp file in `dir`, calling `onChunk` for each
 * chunk (hashing), then fsync. On any error (including the client going
 * away mid-body) the temp file is removed and the error rethrown.
 */
export async function spoolToTemp(
  dir: string,
  source: AsyncIterable<Buffer>,
  onChunk?: (chunk: Buffer) => void,
  maxSize = Number.POSITIVE_INFINITY,
): Promise<SpoolResult> {
  const tmpPath = join(dir, `.tmp-${randomUUID()}`);
  const fh = await open(tmpPath, 'wx');
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > maxSize) throw errors.entityTooLarge();
      onChunk?.(chunk);
      await writeAll(fh, chunk);
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await removeQuietly(tmpPath);
    throw err;
  }
  try {
    await fh.close();
  } catch (err) {
    await removeQuietly(tmpPath);
    throw err;
  }
  return { tmpPath, size };
}

export async function discardTemp(tmpPath: string): Promise<void> {
  await removeQuietly(tmpPath);
}

/** Serialises async critical sections per key. */
class KeyedMutex {
  private tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function etagMatches(condition: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  const want = normalizeEtag(etag);
  return condition.split(',').some((c) => {
    const t = c.trim();
    return t === '*' || normalizeEtag(t) === want;
  });
}

export class Store {
  readonly dataDir: string;
  private readonly root: string;
  private readonly buckets = new Map<string, BucketState>();
  private readonly uploads = new Map<string, UploadState>();
  private readonly locks = new KeyedMutex();
  private readonly log?: StoreLog;

  constructor(dataDir: string, log?: StoreLog) {
    this.dataDir = dataDir;
    this.root = join(dataDir, 'buckets');
    this.log = log;
  }

  // -------------------------------------------------------------------------
  // startup

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const name of await listDir(this.root)) {
      if (!isValidBucketName(name)) continue;
      const dir = join(this.root, name);
      const st = await statOrUndefined(dir);
      if (!st?.isDirectory()) continue;
      let created = st.mtimeMs;
      try {
        const meta = (await readJson(join(dir, 'bucket.json'))) as { created?: unknown };
        if (typeof meta.created === 'number') created = meta.created;
      } catch {
        // bucket.json missing or damaged: keep the bucket, rewrite its metadata
        await writeJsonAtomic(join(dir, 'bucket.json'), dir, { name, created }).catch(() => undefined);
      }
      const state: BucketState = { name, created, dir, objects: new Map(), sorted: null };
      await this.loadObjects(state);
      await this.loadUploads(state);
      this.buckets.set(name, state);
    }
  }

  private async loadObjects(b: BucketState): Promise<void> {
    const objectsDir = join(b.dir, 'objects');
    for (const shard of await listDir(objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardDir = join(objectsDir, shard);
      const names = await listDir(shardDir);
      const referenced = new Set<string>();
      for (const name of names) {
        if (name.startsWith('.tmp-')) {
          await removeQuietly(join(shardDir, name));
          continue;
        }
        const m = /^([0-9a-f]{64})\.json$/.exec(name);
        if (!m) continue;
        try {
          const raw = (await readJson(join(shardDir, name))) as ObjectMeta & { v?: number };
          if (typeof raw.key !== 'string' || hashKey(raw.key) !== m[1] || typeof raw.dataFile !== 'string') continue;
          if (!raw.dataFile.startsWith(`${m[1]}.`) || raw.dataFile.includes('/')) continue;
          const { v: _v, ...meta } = raw;
          b.objects.set(meta.key, meta);
          referenced.add(meta.dataFile);
        } catch (err) {
          this.log?.({
            level: 'warn',
            msg: 's3 store: unreadable sidecar',
            path: join(shardDir, name),
            err: String(err),
          });
        }
      }
      for (const name of names) {
        if (name.endsWith('.data') && !referenced.has(name)) await removeQuietly(join(shardDir, name));
      }
    }
  }

  private async loadUploads(b: BucketState): Promise<void> {
    const uploadsDir = join(b.dir, 'uploads');
    for (const id of await listDir(uploadsDir)) {
      if (!UPLOAD_ID.test(id)) continue;
      const dir = join(uploadsDir, id);
      let info: UploadInfo;
      try {
        info = (await readJson(join(dir, 'upload.json'))) as UploadInfo;
      } catch {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
        continue;
      }
      const state: UploadState = { ...info, uploadId: id, bucket: b.name, dir, parts: new Map() };
      const names = await listDir(dir);
      const referenced = new Set<string>();
      for (const name of names) {
        if (name.startsWith('.tmp-')) {
          await removeQuietly(join(dir, name));
          continue;
        }
        if (!/^part-\d+\.json$/.test(name)) continue;
        try {
          const part = (await readJson(join(dir, name))) as PartMeta;
          state.parts.set(part.partNumber, part);
          referenced.add(part.dataFile);
        } catch {
          // ignore damaged part sidecar; the part is simply missing
        }
      }
      for (const name of names) {
        if (name.endsWith('.data') && !referenced.has(name)) await removeQuietly(join(dir, name));
      }
      this.uploads.set(id, state);
    }
  }

  // -------------------------------------------------------------------------
  // buckets

  listBuckets(): BucketInfo[] {
    return [...this.buckets.values()]
      .map((b) => ({ name: b.name, created: b.created }))
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  private bucket(name: string): BucketState {
    const b = this.buckets.get(name);
    if (!b) throw errors.noSuchBucket(name);
    return b;
  }

  /** Returns false when the bucket already existed. */
  async createBucket(name: string): Promise<boolean> {
    if (!isValidBucketName(name)) throw errors.invalidBucketName(name);
    return this.locks.run(`b:${name}`, async () => {
      if (this.buckets.has(name)) return false;
      const dir = join(this.root, name);
      await mkdir(join(dir, 'objects'), { recursive: true });
      await mkdir(join(dir, 'uploads'), { recursive: true });
      const created = Date.now();
      await writeJsonAtomic(join(dir, 'bucket.json'), dir, { name, created });
      await fsyncDir(this.root);
      this.buckets.set(name, { name, created, dir, objects: new Map(), sorted: null });
      return true;
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await this.locks.run(`b:${name}`, async () => {
      const b = this.bucket(name);
      if (b.objects.size > 0) throw errors.bucketNotEmpty(name);
      this.buckets.delete(name);
      for (const [id, u] of this.uploads) if (u.bucket === name) this.uploads.delete(id);
      await rm(b.dir, { recursive: true, force: true });
    });
  }

  // -------------------------------------------------------------------------
  // objects

  private shardDir(b: BucketState, hash: string): string {
    return join(b.dir, 'objects', hash.slice(0, 2));
  }

  /** Directory a new object's temp file must be spooled into (created if needed). */
  async objectTempDir(bucket: string, key: string): Promise<string> {
    const b = this.bucket(bucket);
    const dir = this.shardDir(b, hashKey(key));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  getObjectMeta(bucket: string, key: string): ObjectMeta {
    const meta = this.bucket(bucket).objects.get(key);
    if (!meta) throw errors.noSuchKey(key);
    return meta;
  }

  /** An object's data file: in the shard named by the first two hex digits of the key hash that starts its name. */
  private dataPath(b: BucketState, meta: ObjectMeta): string {
    return join(b.dir, 'objects', meta.dataFile.slice(0, 2), meta.dataFile);
  }

  /**
   * Read a whole object of at most `maxSize` bytes into memory, with the metadata of the version read;
   * undefined when the object is larger (the caller streams it from openObject instead).
   */
  async readSmallObject(
    bucket: string,
    key: string,
    maxSize: number,
  ): Promise<{ meta: ObjectMeta; data: Buffer } | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const b = this.bucket(bucket);
      const meta = b.objects.get(key);
      if (!meta) throw errors.noSuchKey(key);
      if (meta.size > maxSize) return undefined;
      try {
        const data = await readWhole(this.dataPath(b, meta), meta.size);
        if (data.length !== meta.size)
          throw new Error(`data file of ${key} has ${data.length} bytes, expected ${meta.size}`);
        return { meta, data };
      } catch (err) {
        // replaced between lookup and open: look again
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    throw errors.internal();
  }

  /**
   * Open an object's data for reading. The returned handle stays valid even
   * if the object is overwritten or deleted meanwhile.
   */
  async openObject(bucket: string, key: string): Promise<{ meta: ObjectMeta; fh: FileHandle }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const b = this.bucket(bucket);
      const meta = b.objects.get(key);
      if (!meta) throw errors.noSuchKey(key);
      try {
        const fh = await open(this.dataPath(b, meta), 'r');
        return { meta, fh };
      } catch (err) {
        // replaced between lookup and open: look again
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    throw errors.internal();
  }

  /**
   * Commit a spooled temp file (which must live in objectTempDir(bucket, key))
   * as the new version of the object. The temp file is consumed either way.
   */
  async commitObject(
    bucket: string,
    key: string,
    tmpPath: string,
    fields: ObjectFields,
    cond: WriteConditions = {},
  ): Promise<ObjectMeta> {
    return this.locks.run(`o:${bucket}\u0000${key}`, async () => {
      const b = this.buckets.get(bucket);
      if (!b) {
        await removeQuietly(tmpPath);
        throw errors.noSuchBucket(bucket);
      }
      const old = b.objects.get(key);
      try {
        if (cond.ifNoneMatch !== undefined && old && etagMatches(cond.ifNoneMatch, old.etag)) {
          throw errors.preconditionFailed('If-None-Match');
        }
        if (cond.ifMatch !== undefined) {
          if (!old) throw errors.noSuchKey(key);
          if (!etagMatches(cond.ifMatch, old.etag)) throw errors.preconditionFailed('If-Match');
        }
      } catch (err) {
        await removeQuietly(tmpPath);
        throw err;
      }
      const hash = hashKey(key);
      const dir = this.shardDir(b, hash);
      const dataFile = `${hash}.${randomBytes(8).toString('hex')}.data`;
      const dataPath = join(dir, dataFile);
      try {
        await rename(tmpPath, dataPath);
      } catch (err) {
        await removeQuietly(tmpPath);
        throw err;
      }
      const meta: ObjectMeta = { ...fields, key, lastModified: Date.now(), dataFile };
      try {
        await writeJsonAtomic(join(dir, `${hash}.json`), dir, { v: 1, ...meta });
      } catch (err) {
        await removeQuietly(dataPath);
        throw err;
      }
      await fsyncDir(dir);
      b.objects.set(key, meta);
      if (old) {
        await removeQuietly(join(dir, old.dataFile));
      } else if (b.sorted) {
        b.sorted.splice(searchSorted(b.sorted, key, false), 0, key);
      }
      return meta;
    });
  }

  /** Returns whether the object existed. */
  async deleteObject(bucket: string, key: string): Promise<boolean> {
    return this.locks.run(`o:${bucket}\u0000${key}`, async () => {
      const b = this.bucket(bucket);
      const old = b.objects.get(key);
      if (!old) return false;
      const hash = hashKey(key);
      const dir = this.shardDir(b, hash);
      try {
        await unlink(join(dir, `${hash}.json`));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
      await fsyncDir(dir);
      b.objects.delete(key);
      if (b.sorted) {
        const i = searchSorted(b.sorted, key, false);
        if (b.sorted[i] === key) b.sorted.splice(i, 1);
      }
      await removeQuietly(join(dir, old.dataFile));
      return true;
    });
  }

  private sortedKeys(b: BucketState): string[] {
    if (!b.sorted) b.sorted = [...b.objects.keys()].sort(compareKeys);
    return b.sorted;
  }

  list(bucket: string, opts: ListOptions): ListResult {
    const b = this.bucket(bucket);
    const keys = this.sortedKeys(b);
    const { prefix, delimiter, skipPrefix, maxKeys } = opts;
    let i = opts.startAfter !== undefined ? searchSorted(keys, opts.startAfter, true) : 0;
    if (prefix !== '') i = Math.max(i, searchSorted(keys, prefix, false));
    const contents: ObjectMeta[] = [];
    const commonPrefixes: string[] = [];
    let truncated = false;
    let last: string | undefined;
    let lastIsPrefix = false;
    for (; i < keys.length; i++) {
      const key = keys[i];
      if (!key.startsWith(prefix)) break;
      if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
      let cp: string | undefined;
      if (delimiter) {
        const pos = key.indexOf(delimiter, prefix.length);
        if (pos >= 0) cp = key.slice(0, pos + delimiter.length);
      }
      if (cp !== undefined && lastIsPrefix && cp === last) continue;
      if (contents.length + commonPrefixes.length >= maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      const meta = b.objects.get(key);
      if (cp !== undefined) {
        commonPrefixes.push(cp);
        last = cp;
        lastIsPrefix = true;
      } else if (meta) {
        contents.push(meta);
        last = key;
        lastIsPrefix = false;
      }
    }
    return { contents, commonPrefixes, truncated, last, lastIsPrefix };
  }

  // -------------------------------------------------------------------------
  // multipart

  async createUpload(
    bucket: string,
    key: string,
    fields: Pick<UploadInfo, 'contentType' | 'headers' | 'userMetadata'>,
  ): Promise<UploadInfo> {
    const b = this.bucket(bucket);
    const uploadId = randomBytes(16).toString('hex');
    const dir = join(b.dir, 'uploads', uploadId);
    await mkdir(dir, { recursive: true });
    const info: UploadInfo = { uploadId, bucket, key, initiated: Date.now(), ...fields };
    await writeJsonAtomic(join(dir, 'upload.json'), dir, info);
    this.uploads.set(uploadId, { ...info, dir, parts: new Map() });
    return info;
  }

  private upload(uploadId: string, bucket: string, key: string): UploadState {
    const u = UPLOAD_ID.test(uploadId) ? this.uploads.get(uploadId) : undefined;
    if (!u || u.bucket !== bucket || u.key !== key) throw errors.noSuchUpload(uploadId);
    return u;
  }

  /** Directory a part's temp file must be spooled into. */
  uploadTempDir(bucket: string, key: string, uploadId: string): string {
    this.bucket(bucket);
    return this.upload(uploadId, bucket, key).dir;
  }

  async commitPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    tmpPath: string,
    fields: { size: number; etag: string },
  ): Promise<PartMeta> {
    return this.locks.run(`u:${uploadId}`, async () => {
      let u: UploadState;
      try {
        u = this.upload(uploadId, bucket, key);
      } catch (err) {
        await removeQuietly(tmpPath);
        throw err;
      }
      const dataFile = `part-${partNumber}.${randomBytes(8).toString('hex')}.data`;
      const dataPath = join(u.dir, dataFile);
      try {
        await rename(tmpPath, dataPath);
      } catch (err) {
        await removeQuietly(tmpPath);
        throw err;
      }
      const part: PartMeta = { partNumber, ...fields, lastModified: Date.now(), dataFile };
      try {
        await writeJsonAtomic(join(u.dir, `part-${partNumber}.json`), u.dir, part);
      } catch (err) {
        await removeQuietly(dataPath);
        throw err;
      }
      const old = u.parts.get(partNumber);
      u.parts.set(partNumber, part);
      if (old) await removeQuietly(join(u.dir, old.dataFile));
      return part;
    });
  }

  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    refs: { partNumber: number; etag: string }[],
    minPartSize: number,
    cond: WriteConditions = {},
  ): Promise<ObjectMeta> {
    return this.locks.run(`u:${uploadId}`, async () => {
      const u = this.upload(uploadId, bucket, key);
      const parts: PartMeta[] = [];
      let prev = 0;
      for (const ref of refs) {
        if (ref.partNumber <= prev) throw errors.invalidPartOrder();
        prev = ref.partNumber;
        const part = u.parts.get(ref.partNumber);
        if (!part || normalizeEtag(part.etag) !== normalizeEtag(ref.etag)) throw errors.invalidPart();
        parts.push(part);
      }
      for (let i = 0; i < parts.length - 1; i++) {
        if (parts[i].size < minPartSize) throw errors.entityTooSmall();
      }
      const md5s = createHash('md5');
      for (const p of parts) md5s.update(Buffer.from(normalizeEtag(p.etag), 'hex'));
      const etag = `"${md5s.digest('hex')}-${parts.length}"`;

      const dir = await this.objectTempDir(bucket, key);
      const partDir = u.dir;
      async function* concat(): AsyncGenerator<Buffer> {
        for (const p of parts) {
          const fh = await open(join(partDir, p.dataFile), 'r');
          try {
            for await (const chunk of fh.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) {
              yield chunk as Buffer;
            }
          } finally {
            await fh.close().catch(() => undefined);
          }
        }
      }
      const { tmpPath, size } = await spoolToTemp(dir, concat());
      const meta = await this.commitObject(
        bucket,
        key,
        tmpPath,
        {
          size,
          etag,
          contentType: u.contentType,
          headers: u.headers,
          userMetadata: u.userMetadata,
          partsCount: parts.length,
        },
        cond,
      );
      this.uploads.delete(uploadId);
      await rm(u.dir, { recursive: true, force: true }).catch(() => undefined);
      return meta;
    });
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.locks.run(`u:${uploadId}`, async () => {
      this.bucket(bucket);
      const u = this.upload(uploadId, bucket, key);
      this.uploads.delete(uploadId);
      await rm(u.dir, { recursive: true, force: true });
    });
  }
}
