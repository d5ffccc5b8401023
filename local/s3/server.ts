/**
 * Embedded S3 stand-in for the local emulator.
 *
 * A node:http server speaking the subset of the S3 REST API (path-style
 * addressing: http://host:port/bucket/key) that @aws-sdk/client-s3 and
 * @aws-sdk/lib-storage use, storing objects on disk (see store.ts) so data
 * survives restarts. Auth signatures are accepted without verification.
 *
 * Supported: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, ListObjectsV2, ListObjects (v1), PutObject (plain and
 * aws-chunked bodies, Content-MD5 / x-amz-checksum-* verification,
 * If-None-Match / If-Match conditional writes), CopyObject, GetObject (single
 * byte ranges, conditional headers, response-* overrides), HeadObject,
 * DeleteObject, DeleteObjects, CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload. Everything else answers
 * NotImplemented / MethodNotAllowed as S3 XML.
 *
 * Fault injection: `server.faults.failNext(op, count, status)`, or over HTTP
 * from another process: `POST /_postern/faults` with
 * {"op":"PutObject","count":1,"status":503}, `DELETE /_postern/faults`,
 * `GET /_postern/faults` (pending rules). `GET /_postern/health` answers 200.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumAlgorithmFromHeader,
  checksumHeaderName,
  createChecksumHasher,
  decodeAwsChunked,
  type Hasher,
} from './body.ts';
import { errors, S3Error } from './errors.ts';
import { FaultInjector, isFaultOp } from './faults.ts';
import {
  drainRequest,
  header,
  httpDate,
  isoDate,
  isValidHeaderValue,
  parseHttpDate,
  parseRange,
  parseTarget,
  readSmallBody,
  requestBody,
  toSeconds,
} from './http.ts';
import { discardTemp, type ObjectFields, type ObjectMeta, Store, spoolToTemp, type WriteConditions } from './store.ts';
import { normalizeEtag, parseCompleteMultipart, parseDeleteObjects, type XmlNode, xmlDocument } from './xml.ts';

export type { FaultOp } from './faults.ts';
export { FaultInjector } from './faults.ts';

export interface S3ServerOptions {
  /** Directory holding all buckets and objects (created if missing). */
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (an ephemeral port, see S3Server.port). */
  port?: number;
  /** JSON-lines logger; nothing is logged when absent. */
  log?: (obj: Record<string, unknown>) => void;
  /** Minimum size of every multipart part but the last; default 5 MiB as in S3. */
  minPartSize?: number;
}

export interface S3Server {
  /** e.g. http://127.0.0.1:43211 — use with forcePathStyle: true */
  endpoint: string;
  port: number;
  host: string;
  dataDir: string;
  faults: FaultInjector;
  close(): Promise<void>;
}

const MAX_OBJECT_SIZE = 5 * 1024 ** 3;
const MAX_KEY_BYTES = 1024;
const MAX_USER_METADATA = 2 * 1024;
const MAX_XML_BODY = 4 * 1024 * 1024;
const DEFAULT_MIN_PART = 5 * 1024 * 1024;
/** GetObject reads objects up to this size into one buffer (cheaper than a file handle and a read stream). */
const SMALL_OBJECT = 256 * 1024;
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};
/** Sub-resources we do not implement; a request naming one gets NotImplemented. */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'versioning',
  'versions',
  'website',
];

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  rawPath: string;
  bucket: string;
  key: string;
  query: Map<string, string>;
  op: string;
  requestId: string;
  bytesIn?: number;
  fault?: number;
}

type Handler = (ctx: Ctx) => Promise<void>;

/** Request ids: unique per process (a random prefix and a counter), without a CSPRNG call per request. */
const REQUEST_ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;
function requestId(): string {
  requestCounter = (requestCounter + 1) >>> 0;
  return REQUEST_ID_PREFIX + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

function baseHeaders(ctx: Ctx): Record<string, string> {
  return {
    'x-amz-request-id': ctx.requestId,
    'x-amz-id-2': Buffer.from(ctx.requestId).toString('base64'),
    Server: 'PosternS3',
  };
}

function sendXml(ctx: Ctx, status: number, xml: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  ctx.res.writeHead(status, {
    ...baseHeaders(ctx),
    ...extra,
    'Content-Type': 'application/xml',
    'Content-Length': String(body.length),
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

function sendEmpty(ctx: Ctx, status: number, extra: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { ...baseHeaders(ctx), ...extra, 'Content-Length': '0' });
  ctx.res.end();
}

function subresource(query: Map<string, string>): string | undefined {
  return UNSUPPORTED_SUBRESOURCES.find((s) => query.has(s));
}

function userMetadataFrom(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  let total = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    meta[short] = v;
    total += Buffer.byteLength(short) + Buffer.byteLength(v, 'latin1');
  }
  if (total > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size.');
  }
  return meta;
}

function storedHeadersFrom(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let v = header(req, name);
    if (v === undefined) continue;
    if (name === 'content-encoding') {
      v = v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (v === '') continue;
    }
    out[name] = v;
  }
  return out;
}

function writeConditions(req: IncomingMessage): WriteConditions {
  const cond: WriteConditions = {};
  const inm = header(req, 'if-none-match');
  const im = header(req, 'if-match');
  if (inm !== undefined) {
    if (inm.trim() !== '*') throw errors.notImplemented('If-None-Match with a value other than *');
    cond.ifNoneMatch = '*';
  }
  if (im !== undefined) cond.ifMatch = im;
  return cond;
}

function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw errors.keyTooLong();
}

function etagListMatches(condition: string, etag: string): boolean {
  const want = normalizeEtag(etag);
  return condition.split(',').some((c) => c.trim() === '*' || normalizeEtag(c) === want);
}

function objectHeaders(meta: ObjectMeta): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': meta.contentType,
    ETag: meta.etag,
    'Last-Modified': httpDate(meta.lastModified),
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(meta.headers)) h[name] = value;
  for (const [name, value] of Object.entries(meta.userMetadata)) h[`x-amz-meta-${name}`] = value;
  if (meta.partsCount !== undefined) h['x-amz-mp-parts-count'] = String(meta.partsCount);
  return h;
}

/** Evaluate GET/HEAD preconditions: 412 throws, 304 returns true (already answered). */
function notModified(ctx: Ctx, meta: ObjectMeta): boolean {
  const { req } = ctx;
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  const ifUnmodified = parseHttpDate(header(req, 'if-unmodified-since'));
  const ifModified = parseHttpDate(header(req, 'if-modified-since'));
  const lm = toSeconds(meta.lastModified);
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, meta.etag)) throw errors.preconditionFailed('If-Match');
  } else if (ifUnmodified !== undefined && lm > ifUnmodified) {
    throw errors.preconditionFailed('If-Unmodified-Since');
  }
  let is304 = false;
  if (ifNoneMatch !== undefined) is304 = etagListMatches(ifNoneMatch, meta.etag);
  else if (ifModified !== undefined) is304 = lm <= ifModified;
  if (is304) {
    ctx.res.writeHead(304, {
      ...baseHeaders(ctx),
      ETag: meta.etag,
      'Last-Modified': httpDate(meta.lastModified),
    });
    ctx.res.end();
  }
  return is304;
}

function responseOverrides(query: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const v = query.get(param);
    if (v === undefined) continue;
    if (!isValidHeaderValue(v)) throw errors.invalidArgument(`Invalid value for ${param}`, param, v);
    out[name] = v;
  }
  return out;
}

interface BodyChecks {
  md5: Hasher & { hex(): string };
  finish(size: number, trailers: Map<string, string>): { checksum?: { algorithm: ChecksumAlgorithm; value: string } };
  onChunk(chunk: Buffer): void;
  source: AsyncIterable<Buffer>;
  trailers: Map<string, string>;
}

/**
 * Prepare to receive an object/part body: validates length headers, decodes
 * aws-chunked, and verifies Content-MD5, x-amz-content-sha256 and
 * x-amz-checksum-* (header or trailer) once the body is in.
 */
function prepareBody(ctx: Ctx): BodyChecks {
  const { req } = ctx;
  const contentEncoding = header(req, 'content-encoding') ?? '';
  const sha256Header = (header(req, 'x-amz-content-sha256') ?? '').trim();
  const chunked =
    contentEncoding
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .includes('aws-chunked') || sha256Header.startsWith('STREAMING-');
  const decodedHeader = header(req, 'x-amz-decoded-content-length');
  const contentLength = header(req, 'content-length');
  let expected: number | undefined;
  if (chunked && decodedHeader !== undefined) {
    if (!/^\d+$/.test(decodedHeader.trim())) throw errors.invalidArgument('Invalid x-amz-decoded-content-length');
    expected = Number(decodedHeader.trim());
  } else if (!chunked && contentLength !== undefined) {
    expected = Number(contentLength);
  }
  if (header(req, 'transfer-encoding') !== undefined && expected === undefined) {
    throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', {
      Header: 'Transfer-Encoding',
    });
  }
  if (chunked && expected === undefined) throw errors.missingContentLength();
  if (expected !== undefined && expected > MAX_OBJECT_SIZE) throw errors.entityTooLarge();

  let md5Expected: string | undefined;
  const md5Header = header(req, 'content-md5');
  if (md5Header !== undefined) {
    const raw = Buffer.from(md5Header.trim(), 'base64');
    if (raw.length !== 16) throw errors.invalidDigest();
    md5Expected = raw.toString('hex');
  }
  const sha256Expected = /^[0-9a-fA-F]{64}$/.test(sha256Header) ? sha256Header.toLowerCase() : undefined;

  // flexible checksums
  let algorithm: ChecksumAlgorithm | undefined;
  let checksumExpected: string | undefined;
  for (const name of Object.keys(req.headers)) {
    const alg = checksumAlgorithmFromHeader(name);
    if (alg) {
      algorithm = alg;
      checksumExpected = header(req, name)?.trim();
    }
  }
  const trailerDecl = header(req, 'x-amz-trailer');
  let trailerName: string | undefined;
  if (algorithm === undefined && trailerDecl !== undefined) {
    const alg = checksumAlgorithmFromHeader(trailerDecl);
    if (alg) {
      algorithm = alg;
      trailerName = trailerDecl.trim().toLowerCase();
    }
  }
  if (algorithm === undefined) {
    const declared = header(req, 'x-amz-sdk-checksum-algorithm')?.trim().toUpperCase();
    if (declared && (CHECKSUM_ALGORITHMS as readonly string[]).includes(declared)) {
      algorithm = declared as ChecksumAlgorithm;
    }
  }

  const md5 = createHash('md5');
  const sha256 = sha256Expected ? createHash('sha256') : undefined;
  const checksum = algorithm ? createChecksumHasher(algorithm) : undefined;
  const trailers = new Map<string, string>();
  const body = requestBody(req);
  const source: AsyncIterable<Buffer> = chunked ? decodeAwsChunked(body, trailers) : body;
  let md5Hex: string | undefined;
  const md5Hasher = {
    update: (d: Buffer) => {
      md5.update(d);
    },
    digestBase64: () => Buffer.from(md5Hasher.hex(), 'hex').toString('base64'),
    hex: () => {
      md5Hex ??= md5.digest('hex');
      return md5Hex;
    },
  };
  return {
    md5: md5Hasher,
    source,
    trailers,
    onChunk(chunk) {
      md5.update(chunk);
      sha256?.update(chunk);
      checksum?.update(chunk);
    },
    finish(size, trailerValues) {
      if (expected !== undefined && size !== expected) throw errors.incompleteBody();
      if (md5Expected !== undefined && md5Hasher.hex() !== md5Expected) throw errors.badDigest();
      if (sha256 && sha256.digest('hex') !== sha256Expected) throw errors.sha256Mismatch();
      if (!algorithm || !checksum) return {};
      const value = checksum.digestBase64();
      const given = trailerName !== undefined ? trailerValues.get(trailerName) : checksumExpected;
      if (given !== undefined && given !== value) {
        throw errors.badDigest(`The ${algorithm} you specified did not match the calculated checksum.`);
      }
      return { checksum: { algorithm, value } };
    },
  };
}

class S3Handlers {
  constructor(
    private readonly store: Store,
    private readonly minPartSize: number,
  ) {}

  // ---- service / bucket -------------------------------------------------

  listBuckets: Handler = async (ctx) => {
    const buckets = this.store.listBuckets();
    sendXml(
      ctx,
      200,
      xmlDocument('ListAllMyBucketsResult', {
        Owner: { ID: 'local', DisplayName: 'local' },
        Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoDate(b.created) })) },
      }),
    );
  };

  createBucket: Handler = async (ctx) => {
    await readSmallBody(ctx.req, 64 * 1024, errors.malformedXML);
    await this.store.createBucket(ctx.bucket);
    sendEmpty(ctx, 200, { Location: `/${ctx.bucket}` });
  };

  headBucket: Handler = async (ctx) => {
    if (!this.store.hasBucket(ctx.bucket)) throw errors.noSuchBucket(ctx.bucket);
    sendEmpty(ctx, 200, { 'x-amz-bucket-region': 'us-east-1' });
  };

  deleteBucket: Handler = async (ctx) => {
    await this.store.deleteBucket(ctx.bucket);
    sendEmpty(ctx, 204);
  };

  getBucketLocation: Handler = async (ctx) => {
    if (!this.store.hasBucket(ctx.bucket)) throw errors.noSuchBucket(ctx.bucket);
    sendXml(ctx, 200, xmlDocument('LocationConstraint', {}));
  };

  private listParams(ctx: Ctx) {
    const q = ctx.query;
    const encodingType = q.get('encoding-type');
    if (encodingType !== undefined && encodingType !== 'url') {
      throw errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
    }
    const rawMax = q.get('max-keys');
    let maxKeys = 1000;
    if (rawMax !== undefined) {
      if (!/^\d+$/.test(rawMax))
        throw errors.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', rawMax);
      maxKeys = Math.min(1000, Number(rawMax));
    }
    const enc = (s: string | undefined) =>
      s === undefined || encodingType !== 'url' ? s : encodeURIComponent(s).replace(/%2F/g, '/');
    return {
      prefix: q.get('prefix') ?? '',
      delimiter: q.get('delimiter') || undefined,
      maxKeys,
      encodingType,
      enc,
    };
  }

  private contentsXml(items: ObjectMeta[], enc: (s: string) => string | undefined): XmlNode[] {
    return items.map((m) => ({
      Key: enc(m.key),
      LastModified: isoDate(m.lastModified),
      ETag: m.etag,
      ChecksumAlgorithm: m.checksum?.algorithm,
      Size: m.size,
      StorageClass: 'STANDARD',
    }));
  }

  listObjectsV2: Handler = async (ctx) => {
    const { prefix, delimiter, maxKeys, encodingType, enc } = this.listParams(ctx);
    const token = ctx.query.get('continuation-token');
    const startAfterParam = ctx.query.get('start-after');
    let startAfter = startAfterParam || undefined;
    let skipPrefix: string | undefined;
    if (token !== undefined) {
      const decoded = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
      if (decoded.length < 2 || (decoded[0] !== 'K' && decoded[0] !== 'P')) {
        throw errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
      }
      startAfter = decoded.slice(1);
      if (decoded[0] === 'P') skipPrefix = startAfter;
    }
    const r = this.store.list(ctx.bucket, { prefix, delimiter, startAfter, skipPrefix, maxKeys });
    const next =
      r.truncated && r.last !== undefined
        ? Buffer.from((r.lastIsPrefix ? 'P' : 'K') + r.last, 'utf8').toString('base64url')
        : undefined;
    sendXml(
      ctx,
      200,
      xmlDocument('ListBucketResult', {
        Name: ctx.bucket,
        Prefix: enc(prefix),
        Delimiter: enc(delimiter),
        MaxKeys: maxKeys,
        EncodingType: encodingType,
        KeyCount: r.contents.length + r.commonPrefixes.length,
        IsTruncated: r.truncated,
        ContinuationToken: token,
        NextContinuationToken: next,
        StartAfter: enc(startAfterParam),
        Contents: this.contentsXml(r.contents, enc),
        CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      }),
    );
  };

  listObjectsV1: Handler = async (ctx) => {
    const { prefix, delimiter, maxKeys, encodingType, enc } = this.listParams(ctx);
    const marker = ctx.query.get('marker') || undefined;
    // A marker that is a common prefix (as NextMarker returns) skips that whole group.
    const skipPrefix =
      marker !== undefined &&
      delimiter !== undefined &&
      marker.startsWith(prefix) &&
      marker.length > prefix.length &&
      marker.endsWith(delimiter)
        ? marker
        : undefined;
    const r = this.store.list(ctx.bucket, { prefix, delimiter, startAfter: marker, skipPrefix, maxKeys });
    sendXml(
      ctx,
      200,
      xmlDocument('ListBucketResult', {
        Name: ctx.bucket,
        Prefix: enc(prefix),
        Marker: enc(marker ?? ''),
        NextMarker: r.truncated ? enc(r.last) : undefined,
        Delimiter: enc(delimiter),
        MaxKeys: maxKeys,
        EncodingType: encodingType,
        IsTruncated: r.truncated,
        Contents: this.contentsXml(r.contents, enc),
        CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      }),
    );
  };

  deleteObjects: Handler = async (ctx) => {
    if (!this.store.hasBucket(ctx.bucket)) throw errors.noSuchBucket(ctx.bucket);
    const body = await readSmallBody(ctx.req, MAX_XML_BODY, errors.malformedXML);
    const parsed = parseDeleteObjects(body.toString('utf8'));
    if (!parsed || parsed.keys.length > 1000) throw errors.malformedXML();
    const deleted: XmlNode[] = [];
    const failed: XmlNode[] = [];
    for (const key of parsed.keys) {
      try {
        checkKey(key);
        await this.store.deleteObject(ctx.bucket, key);
        if (!parsed.quiet) deleted.push({ Key: key });
      } catch (err) {
        const e = err instanceof S3Error ? err : errors.internal();
        failed.push({ Key: key, Code: e.code, Message: e.message });
      }
    }
    sendXml(ctx, 200, xmlDocument('DeleteResult', { Deleted: deleted, Error: failed }));
  };

  // ---- objects -----------------------------------------------------------

  putObject: Handler = async (ctx) => {
    const { req, bucket, key } = ctx;
    checkKey(key);
    const cond = writeConditions(req);
    const dir = await this.store.objectTempDir(bucket, key);
    const checks = prepareBody(ctx);
    const { tmpPath, size } = await spoolToTemp(dir, checks.source, checks.onChunk, MAX_OBJECT_SIZE);
    ctx.bytesIn = size;
    let fields: ObjectFields;
    try {
      const { checksum } = checks.finish(size, checks.trailers);
      fields = {
        size,
        etag: `"${checks.md5.hex()}"`,
        contentType: header(req, 'content-type') || 'binary/octet-stream',
        headers: storedHeadersFrom(req),
        userMetadata: userMetadataFrom(req),
        checksum,
      };
    } catch (err) {
      await discardTemp(tmpPath);
      throw err;
    }
    const meta = await this.store.commitObject(bucket, key, tmpPath, fields, cond);
    const extra: Record<string, string> = { ETag: meta.etag };
    if (meta.checksum) {
      extra[checksumHeaderName(meta.checksum.algorithm)] = meta.checksum.value;
      extra['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    sendEmpty(ctx, 200, extra);
  };

  copyObject: Handler = async (ctx) => {
    const { req, bucket, key } = ctx;
    checkKey(key);
    let source = header(req, 'x-amz-copy-source') ?? '';
    const q = source.indexOf('?');
    if (q >= 0) source = source.slice(0, q);
    let decoded: string;
    try {
      decoded = decodeURIComponent(source);
    } catch {
      throw errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
    }
    if (decoded.startsWith('/')) decoded = decoded.slice(1);
    const slash = decoded.indexOf('/');
    if (slash <= 0 || slash === decoded.length - 1) {
      throw errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
    }
    const srcBucket = decoded.slice(0, slash);
    const srcKey = decoded.slice(slash + 1);
    const directive = (header(req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
    }
    if (srcBucket === bucket && srcKey === key && directive === 'COPY') {
      throw new S3Error(
        'InvalidRequest',
        400,
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const cond = writeConditions(req);
    await drainRequest(req);
    const dir = await this.store.objectTempDir(bucket, key);
    const { meta: src, fh } = await this.store.openObject(srcBucket, srcKey);
    const md5 = createHash('md5');
    let spooled: { tmpPath: string; size: number };
    try {
      spooled = await spoolToTemp(
        dir,
        fh.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>,
        (c) => md5.update(c),
      );
    } finally {
      await fh.close().catch(() => undefined);
    }
    const fields: ObjectFields =
      directive === 'COPY'
        ? {
            size: spooled.size,
            etag: `"${md5.digest('hex')}"`,
            contentType: src.contentType,
            headers: src.headers,
            userMetadata: src.userMetadata,
            checksum: src.partsCount === undefined ? src.checksum : undefined,
          }
        : {
            size: spooled.size,
            etag: `"${md5.digest('hex')}"`,
            contentType: header(req, 'content-type') || 'binary/octet-stream',
            headers: storedHeadersFrom(req),
            userMetadata: userMetadataFrom(req),
            checksum: src.partsCount === undefined ? src.checksum : undefined,
          };
    const meta = await this.store.commitObject(bucket, key, spooled.tmpPath, fields, cond);
    sendXml(ctx, 200, xmlDocument('CopyObjectResult', { ETag: meta.etag, LastModified: isoDate(meta.lastModified) }));
  };

  getObject: Handler = async (ctx) => {
    const { req, res, bucket, key, query } = ctx;
    if (query.has('partNumber')) throw errors.notImplemented('partNumber');
    const overrides = responseOverrides(query);
    const head = ctx.method === 'HEAD';
    let meta: ObjectMeta;
    let fh: FileHandle | undefined;
    let data: Buffer | undefined;
    if (head) {
      meta = this.store.getObjectMeta(bucket, key);
    } else {
      const small = await this.store.readSmallObject(bucket, key, SMALL_OBJECT);
      if (small) ({ meta, data } = small);
      else ({ meta, fh } = await this.store.openObject(bucket, key));
    }
    try {
      if (notModified(ctx, meta)) return;
      const range = parseRange(header(req, 'range'), meta.size);
      if (range === 'unsatisfiable') throw errors.invalidRange(meta.size);
      const headers: Record<string, string> = { ...baseHeaders(ctx), ...objectHeaders(meta), ...overrides };
      let status = 200;
      let start = 0;
      let end = meta.size - 1;
      if (range) {
        status = 206;
        ({ start, end } = range);
        headers['Content-Range'] = `bytes ${start}-${end}/${meta.size}`;
      } else if (meta.checksum && /^enabled$/i.test(header(req, 'x-amz-checksum-mode') ?? '')) {
        headers[checksumHeaderName(meta.checksum.algorithm)] = meta.checksum.value;
        headers['x-amz-checksum-type'] = 'FULL_OBJECT';
      }
      const length = end - start + 1;
      headers['Content-Length'] = String(length);
      res.writeHead(status, headers);
      if (data) {
        // One write for the headers and the bytes.
        res.end(start === 0 && end === data.length - 1 ? data : data.subarray(start, end + 1));
        return;
      }
      if (head || !fh || length === 0) {
        res.end();
        return;
      }
      const stream: Readable = fh.createReadStream({ start, end, highWaterMark: 256 * 1024, autoClose: true });
      fh = undefined; // owned by the stream now
      await pipeline(stream, res).catch(() => {
        // client went away mid-download; nothing to clean up
      });
    } finally {
      await fh?.close().catch(() => undefined);
    }
  };

  deleteObject: Handler = async (ctx) => {
    await this.store.deleteObject(ctx.bucket, ctx.key);
    sendEmpty(ctx, 204);
  };

  // ---- multipart ---------------------------------------------------------

  createMultipartUpload: Handler = async (ctx) => {
    const { req, bucket, key } = ctx;
    checkKey(key);
    await drainRequest(req);
    const info = await this.store.createUpload(bucket, key, {
      contentType: header(req, 'content-type') || 'binary/octet-stream',
      headers: storedHeadersFrom(req),
      userMetadata: userMetadataFrom(req),
    });
    sendXml(
      ctx,
      200,
      xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: info.uploadId }),
    );
  };

  uploadPart: Handler = async (ctx) => {
    const { req, bucket, key, query } = ctx;
    if (header(req, 'x-amz-copy-source') !== undefined) throw errors.notImplemented('UploadPartCopy');
    const rawPart = query.get('partNumber') ?? '';
    const partNumber = /^\d{1,5}$/.test(rawPart) ? Number(rawPart) : 0;
    if (partNumber < 1 || partNumber > 10000) {
      throw errors.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        rawPart,
      );
    }
    const uploadId = query.get('uploadId') ?? '';
    const dir = this.store.uploadTempDir(bucket, key, uploadId);
    const checks = prepareBody(ctx);
    const { tmpPath, size } = await spoolToTemp(dir, checks.source, checks.onChunk, MAX_OBJECT_SIZE);
    ctx.bytesIn = size;
    let checksum: ReturnType<BodyChecks['finish']>['checksum'];
    try {
      ({ checksum } = checks.finish(size, checks.trailers));
    } catch (err) {
      await discardTemp(tmpPath);
      throw err;
    }
    const part = await this.store.commitPart(bucket, key, uploadId, partNumber, tmpPath, {
      size,
      etag: `"${checks.md5.hex()}"`,
    });
    const extra: Record<string, string> = { ETag: part.etag };
    if (checksum) extra[checksumHeaderName(checksum.algorithm)] = checksum.value;
    sendEmpty(ctx, 200, extra);
  };

  completeMultipartUpload: Handler = async (ctx) => {
    const { req, bucket, key, query } = ctx;
    const uploadId = query.get('uploadId') ?? '';
    const cond = writeConditions(req);
    this.store.uploadTempDir(bucket, key, uploadId); // NoSuchBucket / NoSuchUpload before parsing
    const body = await readSmallBody(req, MAX_XML_BODY, errors.malformedXML);
    const refs = parseCompleteMultipart(body.toString('utf8'));
    if (!refs) throw errors.malformedXML();
    const meta = await this.store.completeUpload(bucket, key, uploadId, refs, this.minPartSize, cond);
    const host = header(req, 'host') ?? 'localhost';
    const location = `http://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    sendXml(
      ctx,
      200,
      xmlDocument('CompleteMultipartUploadResult', { Location: location, Bucket: bucket, Key: key, ETag: meta.etag }),
    );
  };

  abortMultipartUpload: Handler = async (ctx) => {
    await this.store.abortUpload(ctx.bucket, ctx.key, ctx.query.get('uploadId') ?? '');
    sendEmpty(ctx, 204);
  };

  // ---- routing -----------------------------------------------------------

  /** Classify a request into an S3 operation name and its handler. */
  route(ctx: Ctx): { op: string; handler: Handler } {
    const { method, bucket, key, query, req } = ctx;
    const unsupported = subresource(query);
    const notImpl = (what: string): { op: string; handler: Handler } => ({
      op: 'Unsupported',
      handler: async () => {
        throw errors.notImplemented(what);
      },
    });
    const notAllowed = { op: 'Unsupported', handler: async () => Promise.reject(errors.methodNotAllowed(method)) };
    if (bucket === '') {
      if (method === 'GET' && unsupported === undefined) return { op: 'ListBuckets', handler: this.listBuckets };
      return notAllowed;
    }
    if (key === '') {
      if (unsupported !== undefined) return notImpl(unsupported);
      switch (method) {
        case 'PUT':
          return { op: 'CreateBucket', handler: this.createBucket };
        case 'HEAD':
          return { op: 'HeadBucket', handler: this.headBucket };
        case 'DELETE':
          return { op: 'DeleteBucket', handler: this.deleteBucket };
        case 'GET':
          if (query.has('location')) return { op: 'GetBucketLocation', handler: this.getBucketLocation };
          if (query.has('uploads')) return notImpl('ListMultipartUploads');
          if (query.get('list-type') === '2') return { op: 'ListObjectsV2', handler: this.listObjectsV2 };
          return { op: 'ListObjects', handler: this.listObjectsV1 };
        case 'POST':
          if (query.has('delete')) return { op: 'DeleteObjects', handler: this.deleteObjects };
          return notImpl('POST on a bucket');
        default:
          return notAllowed;
      }
    }
    if (unsupported !== undefined) return notImpl(unsupported);
    switch (method) {
      case 'PUT':
        if (query.has('uploadId') || query.has('partNumber')) return { op: 'UploadPart', handler: this.uploadPart };
        if (header(req, 'x-amz-copy-source') !== undefined) return { op: 'CopyObject', handler: this.copyObject };
        return { op: 'PutObject', handler: this.putObject };
      case 'GET':
        if (query.has('uploadId')) return notImpl('ListParts');
        return { op: 'GetObject', handler: this.getObject };
      case 'HEAD':
        return { op: 'HeadObject', handler: this.getObject };
      case 'DELETE':
        if (query.has('uploadId')) return { op: 'AbortMultipartUpload', handler: this.abortMultipartUpload };
        return { op: 'DeleteObject', handler: this.deleteObject };
      case 'POST':
        if (query.has('uploads')) return { op: 'CreateMultipartUpload', handler: this.createMultipartUpload };
        if (query.has('uploadId')) return { op: 'CompleteMultipartUpload', handler: this.completeMultipartUpload };
        return notImpl('POST on an object');
      default:
        return notAllowed;
    }
  }
}

async function sendError(ctx: Ctx, err: unknown, log?: S3ServerOptions['log']): Promise<void> {
  const { req, res } = ctx;
  const e = err instanceof S3Error ? err : errors.internal();
  if (!(err instanceof S3Error)) {
    log?.({ level: 'error', msg: 's3 internal error', op: ctx.op, path: ctx.rawPath, err: String(err) });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // (req.destroyed is also true once a fully read body ended, so look at the socket)
  const gone = () => res.destroyed || res.writableEnded || res.socket?.destroyed === true;
  if (gone()) return;
  const drained = await drainRequest(req);
  if (res.headersSent || gone()) return;
  const extra: Record<string, string> = { ...e.headers };
  if (!drained) extra.Connection = 'close';
  if (ctx.method === 'HEAD') {
    sendEmpty(ctx, e.status, extra);
    return;
  }
  const fields: XmlNode = { Code: e.code, Message: e.message, ...e.extra };
  if (ctx.rawPath) fields.Resource = ctx.rawPath;
  fields.RequestId = ctx.requestId;
  sendXml(ctx, e.status, xmlDocument('Error', fields, false), extra);
}

async function handleControl(ctx: Ctx, faults: FaultInjector): Promise<void> {
  const { method, rawPath, req, res } = ctx;
  const json = (status: number, value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
    res.end(body);
  };
  if (rawPath === '/_postern/health' && method === 'GET') {
    json(200, { ok: true });
    return;
  }
  if (rawPath !== '/_postern/faults') {
    await drainRequest(req);
    json(404, { error: 'not found' });
    return;
  }
  if (method === 'GET') {
    json(200, { pending: faults.pending(), injected: faults.injected });
    return;
  }
  if (method === 'DELETE') {
    await drainRequest(req);
    faults.clear();
    json(200, { ok: true });
    return;
  }
  if (method !== 'POST') {
    await drainRequest(req);
    json(405, { error: 'method not allowed' });
    return;
  }
  let spec: { op?: unknown; count?: unknown; status?: unknown };
  try {
    const body = await readSmallBody(req, 64 * 1024, () => new Error('body too large'));
    spec = JSON.parse(body.toString('utf8') || '{}');
    if (typeof spec !== 'object' || spec === null) throw new Error('expected a JSON object');
  } catch (err) {
    await drainRequest(req);
    json(400, { error: `bad request: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  try {
    if (!isFaultOp(spec.op)) throw new Error(`unknown op: ${String(spec.op)}`);
    faults.failNext(
      spec.op,
      spec.count === undefined ? 1 : Number(spec.count),
      spec.status === undefined ? 503 : Number(spec.status),
    );
  } catch (err) {
    json(400, { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  json(200, { ok: true, pending: faults.pending() });
}

export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  await mkdir(opts.dataDir, { recursive: true });
  const store = new Store(opts.dataDir, log);
  await store.init();
  const faults = new FaultInjector();
  const handlers = new S3Handlers(store, opts.minPartSize ?? DEFAULT_MIN_PART);
  const active = new Set<Promise<void>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const ctx: Ctx = {
      req,
      res,
      method: (req.method ?? 'GET').toUpperCase(),
      rawPath: '',
      bucket: '',
      key: '',
      query: new Map(),
      op: 'Unknown',
      requestId: requestId(),
    };
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    if (log) {
      res.on('close', () => {
        log({
          msg: 's3',
          op: ctx.op,
          method: ctx.method,
          bucket: ctx.bucket || undefined,
          key: ctx.key || undefined,
          status: res.statusCode,
          completed: res.writableFinished,
          bytesIn: ctx.bytesIn,
          fault: ctx.fault,
          ms: Date.now() - started,
        });
      });
    }
    try {
      const target = parseTarget(req.url ?? '/');
      ctx.rawPath = target.rawPath;
      if (target.rawPath === '/_postern' || target.rawPath.startsWith('/_postern/')) {
        ctx.op = 'Control';
        await handleControl(ctx, faults);
        return;
      }
      ctx.bucket = target.bucket;
      ctx.key = target.key;
      ctx.query = target.query;
      const { op, handler } = handlers.route(ctx);
      ctx.op = op;
      const fault = faults.take(op);
      if (fault) {
        ctx.fault = fault.status;
        throw new S3Error(fault.code, fault.status, fault.message);
      }
      await handler(ctx);
    } catch (err) {
      await sendError(ctx, err, log);
    }
  };

  const server = createServer((req, res) => {
    const p = handle(req, res)
      .catch((err) => {
        log?.({ level: 'error', msg: 's3 handler crashed', err: String(err) });
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else {
          res.destroy();
        }
      })
      .finally(() => active.delete(p));
    active.add(p);
  });
  server.keepAliveTimeout = 60_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    log?.({ level: 'warn', msg: 's3 client error', code: err.code, err: err.message });
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log?.({ level: 'error', msg: 's3 server error', err: String(err) }));
  const port = (server.address() as AddressInfo).port;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    endpoint: `http://${publicHost}:${port}`,
    port,
    host,
    dataDir: opts.dataDir,
    faults,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await Promise.allSettled([...active]);
      })();
      return closing;
    },
  };
}
