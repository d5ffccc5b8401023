/**
 * Contract tests for the local S3 stand-in (local/s3), driven through the real AWS SDK v3 client and
 * @aws-sdk/lib-storage, plus raw HTTP requests (signed with the SDK's own SigV4 signer, or not at all) for
 * what the SDK would never send.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadOrCreateCredentials } from '../../local/s3/credentials.ts';
import { type Credentials, type S3Server, startS3Server } from '../../local/s3/server.ts';

const BUCKET = 'postern-test';
/** Random, so nothing can pass by knowing a fixed test key. */
const CREDENTIALS: Credentials = {
  accessKeyId: `TEST${randomBytes(6).toString('hex')}`,
  secretAccessKey: randomBytes(20).toString('hex'),
};

function client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'postern-s3-'));
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await b.transformToByteArray());
}

async function getBytes(s3: S3Client, key: string, range?: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
  return { out, bytes: await bodyBytes(out.Body) };
}

/** Every entry below `dir`, as absolute paths. */
async function walk(dir: string, { dirs = false } = {}): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(dirs ? [p] : []), ...(await walk(p, { dirs })));
    else out.push(p);
  }
  return out;
}

async function tempFiles(dir: string): Promise<string[]> {
  return (await walk(dir)).filter((p) => p.split(sep).pop()?.startsWith('.tmp-'));
}

async function objectFiles(dir: string): Promise<string[]> {
  return (await walk(dir)).filter((p) => p.endsWith('.object'));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request exactly as given: no signature unless the headers carry one. */
function raw(
  server: S3Server,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** node:crypto in the shape the SDK's signer wants. */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret as Buffer);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

interface SignOptions {
  credentials?: Credentials;
  /** x-amz-content-sha256; default: the SHA-256 of the body */
  payloadHash?: string;
  date?: Date;
}

/** Headers signing `method path` (with its query) the way the SDK signs S3 requests. */
async function signedHeaders(
  server: S3Server,
  method: string,
  path: string,
  headers: Record<string, string>,
  payloadHash: string,
  options: SignOptions = {},
): Promise<Record<string, string>> {
  const [pathname, query = ''] = path.split('?');
  const signer = new SignatureV4({
    credentials: options.credentials ?? CREDENTIALS,
    region: 'us-east-1',
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const host = `127.0.0.1:${server.port}`;
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: pathname,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers: { host, 'x-amz-content-sha256': payloadHash, ...headers },
    },
    { signingDate: options.date },
  );
  return signed.headers;
}

async function signed(
  server: S3Server,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body: Buffer | string = '',
  options: SignOptions = {},
): Promise<RawResponse> {
  const payloadHash = options.payloadHash ?? sha256(body);
  return raw(server, method, path, await signedHeaders(server, method, path, headers, payloadHash, options), body);
}

function codeOf(res: RawResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(res.body.toString())?.[1];
}

/** Starts a PUT of `length` bytes, sends a quarter of a MiB, and hangs up once the server is spooling it. */
async function abandonUpload(server: S3Server, dataDir: string, path: string, length: number): Promise<void> {
  const headers = await signedHeaders(server, 'PUT', path, { 'content-length': String(length) }, 'UNSIGNED-PAYLOAD');
  await new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'PUT', path, headers, agent: false });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(randomBytes(256 * 1024));
    waitFor('spooling to start', async () => (await tempFiles(dataDir)).length > 0).then(
      () => req.destroy(),
      () => req.destroy(),
    );
  });
  await waitFor('temp files removed', async () => (await tempFiles(dataDir)).length === 0);
}

describe('local S3 server', () => {
  let dataDir: string;
  let server: S3Server;
  let s3: S3Client;

  before(async () => {
    // inside a private parent, so "nothing created next to dataDir" is not disturbed by other tests in /tmp
    dataDir = join(await tempDir(), 'data');
    server = await startS3Server({ dataDir, port: 0, credentials: CREDENTIALS });
    s3 = client(server.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3.destroy();
    await server.close();
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  test('create bucket is idempotent; head bucket; missing bucket errors', async () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })), (e: Error) => {
      assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 404);
      return true;
    });
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })), {
      name: 'NoSuchBucket',
    });
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })), {
      name: 'NoSuchBucket',
    });
    await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), { name: 'InvalidBucketName' });
    const bad = await signed(server, 'PUT', '/Bad_Name');
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad), 'InvalidBucketName');
  });

  test('put/get/head/delete round-trip bytes exactly (binary, empty, odd keys, content type)', async () => {
    const binary = Buffer.alloc(256 * 40);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7 + (i >> 8)) & 0xff;
    const cases: [string, Buffer][] = [
      ['mail/binary.bin', binary],
      ['empty', Buffer.alloc(0)],
      ['with space/and+plus & amp?q=1#frag', Buffer.from('plus')],
      ['unicodé/ключ/邮件/😀.eml', Buffer.from('unicode')],
      ['percent%20not%2Fdecoded%', Buffer.from('percent')],
      ['trailing/', Buffer.from('slash')],
      ["star*bang!quote'paren()", Buffer.from('sub-delims')],
      ['tab\tcr\rnl\n<xml>&"\'', Buffer.from('control')],
    ];
    for (const [key, data] of cases) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ContentType: 'message/rfc822' }),
      );
      const md5 = createHash('md5').update(data).digest('hex');
      assert.equal(put.ETag, `"${md5}"`, key);
      const { out, bytes } = await getBytes(s3, key);
      assert.ok(bytes.equals(data), `round trip of ${JSON.stringify(key)}`);
      assert.equal(out.ContentLength, data.length);
      assert.equal(out.ContentType, 'message/rfc822');
      assert.equal(out.ETag, `"${md5}"`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentLength, data.length);
      assert.equal(head.ETag, `"${md5}"`);
      assert.ok(head.LastModified instanceof Date);
    }

    // an overwrite replaces the object, and its old file is gone
    const before = (await objectFiles(dataDir)).length;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mail/binary.bin', Body: 'v2' }));
    assert.equal((await getBytes(s3, 'mail/binary.bin')).bytes.toString(), 'v2');
    assert.equal((await objectFiles(dataDir)).length, before);

    for (const [key] of cases) {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NoSuchKey' });
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
    }
    // deleting a missing key is fine (204)
    const del = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'never-existed' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    // the NoSuchKey error is S3 XML
    const res = await signed(server, 'GET', `/${BUCKET}/never-existed`);
    assert.equal(res.status, 404);
    assert.match(res.body.toString(), /<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message>/);
    assert.deepEqual(await objectFiles(dataDir), [], 'no object files left after deleting everything');
  });

  test('ranged gets (RFC 9110 §14.1.2): a-b, a-, -n, clamping and 416', async () => {
    const data = randomBytes(100);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range', Body: data }));
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=90-', 90, 99],
      ['bytes=-5', 95, 99],
      ['bytes=0-0', 0, 0],
      ['bytes=95-1000', 95, 99],
      ['bytes=-500', 0, 99],
    ];
    for (const [range, start, end] of cases) {
      const { out, bytes } = await getBytes(s3, 'range', range);
      assert.equal(out.$metadata.httpStatusCode, 206, range);
      assert.equal(out.ContentRange, `bytes ${start}-${end}/100`, range);
      assert.equal(out.ContentLength, end - start + 1, range);
      assert.ok(bytes.equals(data.subarray(start, end + 1)), range);
    }
    for (const range of ['bytes=100-', 'bytes=500-600', 'bytes=-0']) {
      await assert.rejects(getBytes(s3, 'range', range), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.$metadata?.httpStatusCode, 416, range);
        assert.equal(e.name, 'InvalidRange');
        return true;
      });
    }
    // syntactically invalid ranges are ignored: whole object, 200
    for (const range of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=0-1,5-6']) {
      const res = await signed(server, 'GET', `/${BUCKET}/range`, { range });
      assert.equal(res.status, 200, range);
      assert.ok(res.body.equals(data), range);
    }
    const raw416 = await signed(server, 'GET', `/${BUCKET}/range`, { range: 'bytes=100-' });
    assert.equal(raw416.headers['content-range'], 'bytes */100');
    // ranges on an empty object are unsatisfiable
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range-empty', Body: Buffer.alloc(0) }));
    await assert.rejects(getBytes(s3, 'range-empty', 'bytes=0-'), { name: 'InvalidRange' });
    // ranged HEAD
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'range', Range: 'bytes=0-9' }));
    assert.equal(head.ContentLength, 10);
    assert.equal(head.ContentRange, 'bytes 0-9/100');
  });

  test('30 MB lib-storage Upload streamed with 5 MB parts', async () => {
    const total = 30 * 1024 * 1024;
    const hash = createHash('sha256');
    let sent = 0;
    // a generator yields odd-sized chunks, so lib-storage must re-chunk into parts
    async function* source() {
      while (sent < total) {
        const n = Math.min(total - sent, 777_777);
        const chunk = randomBytes(n);
        hash.update(chunk);
        sent += n;
        yield chunk;
      }
    }
    const upload = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'big/30mb.bin', Body: Readable.from(source()), ContentType: 'message/rfc822' },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    const done = await upload.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-6"$/);
    const expected = hash.digest('hex');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
    assert.equal(head.ContentLength, total);
    assert.equal(head.ContentType, 'message/rfc822');

    const got = createHash('sha256');
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
    let size = 0;
    for await (const chunk of out.Body as Readable) {
      got.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(size, total);
    assert.equal(got.digest('hex'), expected);

    // a ranged read across a part boundary
    const boundary = 5 * 1024 * 1024;
    const { bytes } = await getBytes(s3, 'big/30mb.bin', `bytes=${boundary - 3}-${boundary + 2}`);
    assert.equal(bytes.length, 6);

    // multipart upload state is cleaned up
    assert.deepEqual(await readdir(join(dataDir, 'buckets', BUCKET, 'uploads')), []);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
  });

  test('multipart errors: abort, wrong etag, small parts, order', async () => {
    const key = 'mp/manual';
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadId = create.UploadId ?? '';
    const part = (n: number) =>
      s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: n, Body: Buffer.alloc(10) }),
      );
    const p1 = await part(1);
    const p2 = await part(2);
    const complete = (Parts: { PartNumber: number; ETag?: string }[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts },
        }),
      );
    // part 1 is below the 5 MiB minimum
    await assert.rejects(
      complete([
        { PartNumber: 1, ETag: p1.ETag },
        { PartNumber: 2, ETag: p2.ETag },
      ]),
      { name: 'EntityTooSmall' },
    );
    await assert.rejects(complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }]), {
      name: 'InvalidPart',
    });
    await assert.rejects(
      complete([
        { PartNumber: 2, ETag: p2.ETag },
        { PartNumber: 1, ETag: p1.ETag },
      ]),
      { name: 'InvalidPartOrder' },
    );
    // a single (last) part may be small
    const done = await complete([{ PartNumber: 2, ETag: p2.ETag }]);
    assert.match(done.ETag ?? '', /-1"$/);
    assert.equal((await getBytes(s3, key)).bytes.length, 10);
    await assert.rejects(complete([{ PartNumber: 2, ETag: p2.ETag }]), { name: 'NoSuchUpload' });

    const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/aborted' }));
    const upload = { Bucket: BUCKET, Key: 'mp/aborted', UploadId: second.UploadId };
    await s3.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: Buffer.alloc(10) }));
    await s3.send(new AbortMultipartUploadCommand(upload));
    await assert.rejects(s3.send(new UploadPartCommand({ ...upload, PartNumber: 2, Body: 'x' })), {
      name: 'NoSuchUpload',
    });
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp/aborted' })), { name: 'NotFound' });
    assert.deepEqual(await readdir(join(dataDir, 'buckets', BUCKET, 'uploads')), []);
  });

  test('path traversal keys stay inside dataDir', async () => {
    const parent = join(dataDir, '..');
    const siblingsBefore = (await readdir(parent)).sort();
    const evil = [
      '../../etc/passwd',
      '../../../../../../../../tmp/postern-escape',
      '..',
      '.',
      '/absolute/path',
      'a/../../b',
      '..\\..\\windows',
      `../${BUCKET}-sibling/x`,
    ];
    for (const key of evil) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `evil:${key}` }));
      assert.equal((await getBytes(s3, key)).bytes.toString(), `evil:${key}`, key);
    }
    // bucket names are validated, never used as paths
    assert.equal((await signed(server, 'PUT', '/..%2F..%2Fescape')).status, 400);
    assert.equal((await signed(server, 'PUT', '/..%2F..%2Fescape/key', { 'content-length': '1' }, 'x')).status, 404);
    // an encoded slash in a raw request is part of the key too, never a path separator
    const res = await signed(server, 'PUT', `/${BUCKET}/..%2F..%2Fraw-escape`, { 'content-length': '3' }, 'abc');
    assert.equal(res.status, 200);
    assert.equal((await getBytes(s3, '../../raw-escape')).bytes.toString(), 'abc');
    const rootReal = await realpath(dataDir);
    for (const file of await walk(dataDir)) {
      const real = await realpath(file);
      assert.ok(!relative(rootReal, real).startsWith('..'), `${real} escaped ${rootReal}`);
      assert.ok(!/passwd|escape|windows/.test(file), `key used as a file name: ${file}`);
    }
    assert.deepEqual((await readdir(parent)).sort(), siblingsBefore, 'nothing created next to dataDir');
    assert.equal(existsSync(join(tmpdir(), 'postern-escape')), false, 'nothing written where a key points');
    await assert.rejects(stat('/tmp/postern-escape'));
    for (const key of [...evil, '../../raw-escape'])
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  });

  test('fault injection fails PutObject without storing, then succeeds on retry', async () => {
    const once = client(server.endpoint, { maxAttempts: 1 });
    try {
      server.faults.failNext('PutObject');
      await assert.rejects(
        once.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'faulty', Body: 'mail' })),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(e.name, 'SlowDown');
          assert.equal(e.$metadata?.httpStatusCode, 503);
          return true;
        },
      );
      await assert.rejects(once.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'faulty' })), { name: 'NotFound' });
      await once.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'faulty', Body: 'mail' }));
      assert.equal((await getBytes(once, 'faulty')).bytes.toString(), 'mail');

      // 500 → InternalError; 'any' matches every operation
      server.faults.failNext('any', 1, 500);
      await assert.rejects(once.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'faulty' })), {
        name: 'InternalError',
      });

      // the default client retries (3 attempts): two faults are absorbed, three surface.
      // (500 rather than 503 here: the SDK backs off much longer after SlowDown throttling)
      server.faults.failNext('GetObject', 2, 500);
      assert.equal((await getBytes(s3, 'faulty')).bytes.toString(), 'mail');
      server.faults.failNext('DeleteObject', 3, 500);
      await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'faulty' })), {
        name: 'InternalError',
      });
      assert.equal((await getBytes(s3, 'faulty')).bytes.toString(), 'mail', 'failed delete did nothing');
      assert.throws(() => server.faults.failNext('ListObjects' as 'any'), TypeError);

      // a failed multipart part does not break the upload when retried
      server.faults.failNext('UploadPart', 1, 500);
      const up = new Upload({
        client: s3,
        params: { Bucket: BUCKET, Key: 'faulty-mp', Body: randomBytes(11 * 1024 * 1024) },
        partSize: 5 * 1024 * 1024,
      });
      await up.done();
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'faulty-mp' }));
      assert.equal(head.ContentLength, 11 * 1024 * 1024);
      assert.equal(server.faults.pending().length, 0);
    } finally {
      server.faults.clear();
      once.destroy();
    }
  });

  test('aborted upload (client disconnects mid-body) leaves no object and no temp files', async () => {
    const key = 'aborted/upload';
    await abandonUpload(server, dataDir, `/${BUCKET}/${encodeURIComponent(key)}`, 1024 * 1024);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });

    // same for a multipart part
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const partPath = `/${BUCKET}/${encodeURIComponent(key)}?partNumber=1&uploadId=${create.UploadId}`;
    await abandonUpload(server, dataDir, partPath, 6 * 1024 * 1024);
    assert.deepEqual(await readdir(join(dataDir, 'buckets', BUCKET, 'uploads', create.UploadId ?? '')), []);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: create.UploadId }));
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
  });

  test('aws-chunked bodies with an unsigned trailer are decoded and their checksum verified', async () => {
    const data = randomBytes(200_000);
    const pieces = [data.subarray(0, 65536), data.subarray(65536, 131072), data.subarray(131072)];
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const framed = (checksum: string) =>
      Buffer.concat([
        ...pieces.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]),
        Buffer.from(`0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`),
      ]);
    const trailer = framed(crc.toString('base64'));
    const put = (key: string, body: Buffer, headers: Record<string, string> = {}) =>
      signed(
        server,
        'PUT',
        `/${BUCKET}/${key}`,
        {
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
          'content-length': String(body.length),
          ...headers,
        },
        body,
        { payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
      );
    let res = await put('chunked/trailer', trailer);
    assert.equal(res.status, 200, res.body.toString());
    assert.ok((await getBytes(s3, 'chunked/trailer')).bytes.equals(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked/trailer' }));
    assert.equal(head.ContentEncoding, undefined, 'aws-chunked is not stored as the content-encoding');

    // a wrong trailer checksum is rejected and nothing is stored
    res = await put('chunked/bad', framed('AAAAAA=='));
    assert.equal(res.status, 400);
    assert.equal(codeOf(res), 'BadDigest');
    // truncated framing is rejected
    res = await put('chunked/bad', trailer.subarray(0, 100), { 'content-length': '100' });
    assert.equal(res.status, 400);
    assert.equal(codeOf(res), 'IncompleteBody');
    // a declared length that does not match the decoded body
    res = await put('chunked/bad', trailer, { 'x-amz-decoded-content-length': String(data.length + 1) });
    assert.equal(codeOf(res), 'IncompleteBody');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked/bad' })), { name: 'NotFound' });
    // signed chunks are not implemented (the SDK does not send them): refused, not stored unverified
    res = await signed(server, 'PUT', `/${BUCKET}/chunked/bad`, {}, trailer, {
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    assert.equal(res.status, 501);
    // so is a checksum that is not verified here
    res = await signed(server, 'PUT', `/${BUCKET}/chunked/bad`, { 'x-amz-checksum-crc32c': 'AAAAAA==' }, 'x');
    assert.equal(res.status, 501);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked/bad' })), { name: 'NotFound' });

    // the SDK's own default (flexible checksums on) sends aws-chunked with a trailer for streams
    const defaults = new S3Client({
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: CREDENTIALS,
    });
    try {
      for (const algorithm of ['CRC32', 'SHA1', 'SHA256'] as const) {
        for (const [kind, body] of [
          ['buffer', data],
          ['stream', Readable.from([data.subarray(0, 1000), data.subarray(1000)])],
        ] as const) {
          const key = `chunked/alg-${algorithm}-${kind}`;
          await defaults.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: key,
              Body: body,
              ContentLength: data.length,
              ChecksumAlgorithm: algorithm,
            }),
          );
          assert.ok((await getBytes(s3, key)).bytes.equals(data), key);
        }
      }
    } finally {
      defaults.destroy();
    }
    assert.deepEqual(await tempFiles(dataDir), []);
  });

  test('concurrent overwrites: readers only ever see complete versions', async () => {
    const key = 'race/key';
    const versions = Array.from({ length: 12 }, (_, i) => randomBytes(200_000 + i * 1000));
    const hashes = new Set(versions.map(sha256));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: versions[0] }));
    const reads: Promise<Buffer>[] = [];
    const writes = versions.map(async (v, i) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: v }));
      reads.push(getBytes(s3, key).then((r) => r.bytes));
      if (i % 3 === 0) reads.push(getBytes(s3, key).then((r) => r.bytes));
    });
    for (let i = 0; i < 12; i++) reads.push(getBytes(s3, key).then((r) => r.bytes));
    await Promise.all(writes);
    for (const bytes of await Promise.all(reads)) assert.ok(hashes.has(sha256(bytes)), 'read a torn object');
    assert.deepEqual(await tempFiles(dataDir), []);
    const before = (await objectFiles(dataDir)).length;
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal((await objectFiles(dataDir)).length, before - 1, 'one file per object');
  });

  describe('ListObjectsV2', () => {
    const put = (Key: string, Body = Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    const list = (prefix: string, extra: Partial<{ MaxKeys: number; ContinuationToken: string }> = {}) =>
      s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...extra }));

    test('lists a prefix in UTF-8 binary order with Key, Size and LastModified', async () => {
      const before = Date.now();
      // UTF-16 order would put the astral 😀 (surrogates D83D..) before U+FFFD; UTF-8 bytes put it after
      const keys = ['list/a/😀', 'list/a/\uFFFD', 'list/a/b', 'list/a/B', 'list/a/a b', 'list/a/ü'];
      for (const key of keys) await put(key);
      await put('list/ab', 'outside the prefix');
      await put('other/list/a/x');
      const out = await list('list/a/');
      const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(expected.slice(-2), ['list/a/\uFFFD', 'list/a/😀']);
      assert.deepEqual(
        out.Contents?.map((o) => o.Key),
        expected,
      );
      assert.equal(out.KeyCount, keys.length);
      assert.equal(out.IsTruncated, false);
      assert.equal(out.NextContinuationToken, undefined);
      assert.equal(out.Prefix, 'list/a/');
      for (const o of out.Contents ?? []) {
        assert.equal(o.Size, Buffer.byteLength(o.Key ?? ''));
        assert.ok(o.LastModified && o.LastModified.getTime() >= before - 1000, 'LastModified of the put');
      }
      const empty = await list('list/none/');
      assert.equal(empty.KeyCount, 0);
      assert.equal(empty.Contents, undefined);
      await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })), { name: 'NoSuchBucket' });
    });

    test('pages of max-keys with continuation tokens: every key once, in order; deleted keys gone', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `page/${String(i).padStart(2, '0')}`);
      for (const key of keys) await put(key);
      const pages: string[][] = [];
      for await (const page of paginateListObjectsV2(
        { client: s3, pageSize: 3 },
        { Bucket: BUCKET, Prefix: 'page/' },
      )) {
        assert.equal(page.KeyCount, page.Contents?.length ?? 0);
        assert.equal(page.IsTruncated, pages.length < 2);
        pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
      }
      assert.deepEqual(pages, [keys.slice(0, 3), keys.slice(3, 6), keys.slice(6)]);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'page/03' }));
      const first = await list('page/', { MaxKeys: 3 });
      const second = await list('page/', { MaxKeys: 3, ContinuationToken: first.NextContinuationToken });
      assert.deepEqual(
        second.Contents?.map((o) => o.Key),
        ['page/04', 'page/05', 'page/06'],
      );
      assert.equal(second.ContinuationToken, first.NextContinuationToken);
      const bad = await signed(server, 'GET', `/${BUCKET}?list-type=2&continuation-token=%21%21`);
      assert.equal(bad.status, 400);
      assert.equal(codeOf(bad), 'InvalidArgument');
      const badMax = await signed(server, 'GET', `/${BUCKET}?list-type=2&max-keys=-1`);
      assert.equal(codeOf(badMax), 'InvalidArgument');
    });

    test('max-keys is capped at 1000', async () => {
      const keys = Array.from({ length: 1001 }, (_, i) => `cap/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => put(key, 'c')));
      const first = await list('cap/', { MaxKeys: 5000 });
      assert.equal(first.KeyCount, 1000);
      assert.equal(first.MaxKeys, 1000);
      assert.equal(first.IsTruncated, true);
      const rest = await list('cap/', { ContinuationToken: first.NextContinuationToken });
      assert.deepEqual(
        rest.Contents?.map((o) => o.Key),
        ['cap/1000'],
      );
      assert.equal(rest.IsTruncated, false);
    });
  });

  test('operations Postern does not use answer NotImplemented and change nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept', Body: 'kept' }));
    const notImplemented = { name: 'NotImplemented' };
    await assert.rejects(s3.send(new ListObjectsCommand({ Bucket: BUCKET })), notImplemented);
    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' })), notImplemented);
    await assert.rejects(s3.send(new ListBucketsCommand({})), notImplemented);
    await assert.rejects(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy', CopySource: `${BUCKET}/kept` })),
      notImplemented,
    );
    await assert.rejects(
      s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'kept' }] } })),
      notImplemented,
    );
    assert.equal((await getBytes(s3, 'kept')).bytes.toString(), 'kept');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy' })), { name: 'NotFound' });
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'kept' }));
  });

  test('malformed and hostile input does not crash the server', async () => {
    const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'x' }));
    const cases: [string, () => Promise<RawResponse>, number][] = [
      ['huge header', () => raw(server, 'GET', `/${BUCKET}/x`, { 'x-huge': 'a'.repeat(100_000) }), 431],
      ['bad percent-encoding', () => signed(server, 'GET', `/${BUCKET}/%E0%A4%A`), 400],
      ['unknown method', () => signed(server, 'PATCH', `/${BUCKET}/x`), 405],
      ['unknown sub-resource', () => signed(server, 'GET', `/${BUCKET}?versioning`), 501],
      ['tagging', () => signed(server, 'PUT', `/${BUCKET}/x?tagging`, {}, '<Tagging/>'), 501],
      [
        'no such upload',
        () => signed(server, 'POST', `/${BUCKET}/x?uploadId=nope`, {}, '<CompleteMultipartUpload>'),
        404,
      ],
      ['not XML', () => signed(server, 'POST', `/${BUCKET}/x?uploadId=${mp.UploadId}`, {}, 'not xml'), 400],
      ['part 0', () => signed(server, 'PUT', `/${BUCKET}/x?partNumber=0&uploadId=${mp.UploadId}`, {}, 'x'), 400],
      ['key too long', () => signed(server, 'PUT', `/${BUCKET}/${'k'.repeat(1100)}`, {}, 'x'), 400],
      [
        'aws-chunked garbage',
        () =>
          signed(server, 'PUT', `/${BUCKET}/x`, { 'x-amz-decoded-content-length': '2' }, 'zz\r\n', {
            payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          }),
        400,
      ],
      [
        'no decoded length',
        () =>
          signed(server, 'PUT', `/${BUCKET}/x`, {}, '0\r\n\r\n', { payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }),
        411,
      ],
      ['no such bucket', () => signed(server, 'DELETE', '/no-such-bucket/x'), 404],
    ];
    for (const [what, send, status] of cases) {
      const res = await send().catch(() => ({ status: -1, headers: {}, body: Buffer.alloc(0) }));
      assert.equal(res.status, status, `${what}: ${res.body.toString()}`);
    }

    // garbage on the socket
    await new Promise<void>((resolve) => {
      const net = request({ host: '127.0.0.1', port: server.port, method: 'GET', path: '/', agent: false });
      net.on('socket', (socket) => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      net.on('error', () => resolve());
      net.on('response', () => resolve());
      net.on('close', () => resolve());
    });
    // still serving, nothing stored
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'x' })), { name: 'NotFound' });
    assert.deepEqual(await tempFiles(dataDir), []);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'x', UploadId: mp.UploadId }));
  });

  describe('every request must be signed with the server credentials (SigV4)', () => {
    const key = 'auth/secret';
    const path = `/${BUCKET}/auth/secret`;
    const assertUnchanged = async () => assert.equal((await getBytes(s3, key)).bytes.toString(), 'original');

    before(async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'original' }));
    });

    test('unsigned GET, HEAD, PUT, DELETE, list and multipart requests get 403 AccessDenied and change nothing', async () => {
      const attempts: [string, string, Record<string, string>, string?][] = [
        ['GET', path, {}],
        ['HEAD', path, {}],
        ['PUT', path, { 'content-length': '8' }, 'replaced'],
        ['DELETE', path, {}],
        ['GET', `/${BUCKET}?list-type=2`, {}],
        ['GET', `/${BUCKET}?list-type=2&prefix=auth%2F&max-keys=1`, {}],
        ['GET', '/', {}],
        ['POST', `${path}?uploads`, {}],
        ['PUT', `/${BUCKET}-new`, {}],
      ];
      for (const [method, target, headers, body] of attempts) {
        const res = await raw(server, method, target, headers, body);
        assert.equal(res.status, 403, `${method} ${target}`);
        if (method !== 'HEAD') assert.equal(codeOf(res), 'AccessDenied', `${method} ${target}`);
      }
      // an Authorization header of another kind is no signature either
      const v2 = await raw(
        server,
        'PUT',
        path,
        { authorization: `AWS ${CREDENTIALS.accessKeyId}:c2lnbmF0dXJl` },
        'replaced',
      );
      assert.equal(v2.status, 403);
      await assertUnchanged();
      await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: `${BUCKET}-new` })));
      assert.deepEqual(await readdir(join(dataDir, 'buckets', BUCKET, 'uploads')), []);
    });

    test('a wrong secret or an unknown access key is refused', async () => {
      const wrongSecret = client(server.endpoint, {
        credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' },
        maxAttempts: 1,
      });
      const wrongKey = client(server.endpoint, {
        credentials: { ...CREDENTIALS, accessKeyId: 'AKIDWRONG' },
        maxAttempts: 1,
      });
      try {
        for (const [who, name] of [
          [wrongSecret, 'SignatureDoesNotMatch'],
          [wrongKey, 'InvalidAccessKeyId'],
        ] as const) {
          await assert.rejects(who.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'replaced' })), {
            name,
          });
          await assert.rejects(who.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), { name });
          await assert.rejects(who.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })), { name });
        }
      } finally {
        wrongSecret.destroy();
        wrongKey.destroy();
      }
      await assertUnchanged();
    });

    test('a signature is only good for the request it signed', async () => {
      const headers = await signedHeaders(server, 'GET', `/${BUCKET}/other`, {}, sha256(''));
      const moved = await raw(server, 'GET', path, headers);
      assert.equal(codeOf(moved), 'SignatureDoesNotMatch');
      const deleteHeaders = await signedHeaders(server, 'GET', path, {}, sha256(''));
      assert.equal(codeOf(await raw(server, 'DELETE', path, deleteHeaders)), 'SignatureDoesNotMatch');
      // a signed header changed after signing
      const ranged = await signedHeaders(server, 'GET', path, { range: 'bytes=0-1' }, sha256(''));
      assert.equal(codeOf(await raw(server, 'GET', path, { ...ranged, range: 'bytes=0-7' })), 'SignatureDoesNotMatch');
      // an hour-old signature
      const old = await signed(server, 'GET', path, {}, '', { date: new Date(Date.now() - 3600_000) });
      assert.equal(codeOf(old), 'RequestTimeTooSkewed');
      await assertUnchanged();
    });

    test('a body that does not match its signed x-amz-content-sha256 is refused and stores nothing', async () => {
      const headers = await signedHeaders(server, 'PUT', path, { 'content-length': '8' }, sha256('replaced'));
      const res = await raw(server, 'PUT', path, headers, 'tampered');
      assert.equal(res.status, 400);
      assert.equal(codeOf(res), 'XAmzContentSHA256Mismatch');
      await assertUnchanged();
      assert.deepEqual(await tempFiles(dataDir), []);

      // the XML of CompleteMultipartUpload is checked too
      const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const part = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: mp.UploadId, PartNumber: 1, Body: 'replaced' }),
      );
      const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`;
      const completePath = `${path}?uploadId=${mp.UploadId}`;
      const complete = await signedHeaders(server, 'POST', completePath, {}, sha256('<CompleteMultipartUpload/>'));
      assert.equal(codeOf(await raw(server, 'POST', completePath, complete, xml)), 'XAmzContentSHA256Mismatch');
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: mp.UploadId }));
      await assertUnchanged();
    });

    test('presigned URLs are refused', async () => {
      const signer = new SignatureV4({
        credentials: CREDENTIALS,
        region: 'us-east-1',
        service: 's3',
        sha256: NodeSha256,
        uriEscapePath: false,
      });
      const url = await signer.presign({
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: server.port,
        path,
        headers: { host: `127.0.0.1:${server.port}` },
      });
      const query = new URLSearchParams(url.query as Record<string, string>).toString();
      const res = await raw(server, 'GET', `${path}?${query}`);
      assert.equal(res.status, 403);
      assert.equal(codeOf(res), 'AccessDenied');
    });

    test('fault injection cannot be reached over HTTP', async () => {
      const control = JSON.stringify({ op: 'any', count: 100, status: 503 });
      for (const [method, target] of [
        ['POST', '/_postern/faults'],
        ['GET', '/_postern/faults'],
        ['DELETE', '/_postern/faults'],
        ['GET', '/_postern/health'],
      ]) {
        const body = method === 'POST' ? control : '';
        assert.equal((await raw(server, method, target, { 'content-type': 'application/json' }, body)).status, 403);
        // signed, it is just an object path in a bucket that does not exist
        assert.equal(
          (await signed(server, method, target, { 'content-type': 'application/json' }, body)).status,
          method === 'POST' ? 501 : 404,
        );
      }
      assert.deepEqual(server.faults.pending(), []);
      // and an unsigned request does not use up a fault armed in-process
      server.faults.failNext('GetObject');
      assert.equal((await raw(server, 'GET', path)).status, 403);
      assert.equal(server.faults.pending().length, 1);
      server.faults.clear();
      await assertUnchanged();
    });
  });
});

describe('data directory privacy', () => {
  async function assertPrivate(dir: string): Promise<void> {
    for (const path of [dir, ...(await walk(dir, { dirs: true }))]) {
      const info = await stat(path);
      assert.equal((info.mode & 0o777).toString(8), info.isDirectory() ? '700' : '600', path);
    }
  }

  test('directories are 0700 and files 0600 whatever the umask', async () => {
    const dataDir = await tempDir();
    const umask = process.umask(0o000);
    try {
      const server = await startS3Server({ dataDir: join(dataDir, 'new', 's3'), credentials: CREDENTIALS });
      const s3 = client(server.endpoint);
      try {
        await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mail', Body: 'secret' }));
        const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
        await s3.send(
          new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId: mp.UploadId, PartNumber: 1, Body: 'part' }),
        );
        assert.equal((await objectFiles(dataDir)).length, 1);
        await assertPrivate(join(dataDir, 'new', 's3'));
      } finally {
        s3.destroy();
        await server.close();
      }
    } finally {
      process.umask(umask);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a data directory of an earlier version is made private, its objects kept (one file each now)', async () => {
    const dataDir = await tempDir();
    try {
      // the earlier layout: metadata beside a data file, readable by all
      const hash = sha256('old/mail');
      const shard = join(dataDir, 'buckets', BUCKET, 'objects', hash.slice(0, 2));
      await mkdir(shard, { recursive: true });
      const meta = {
        v: 1,
        key: 'old/mail',
        size: 3,
        etag: '"e"',
        contentType: 'message/rfc822',
        headers: {},
        userMetadata: {},
        lastModified: 0,
        dataFile: `${hash}.0123456789abcdef.data`,
      };
      await writeFile(join(shard, `${hash}.json`), JSON.stringify(meta));
      await writeFile(join(shard, meta.dataFile), 'old');
      await writeFile(join(shard, `${hash}.fedcba9876543210.data`), 'orphan');
      await writeFile(join(dataDir, 'buckets', BUCKET, 'bucket.json'), '{}');
      for (const path of await walk(dataDir, { dirs: true }))
        await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
      await chmod(dataDir, 0o755);

      const server = await startS3Server({ dataDir, credentials: CREDENTIALS });
      const s3 = client(server.endpoint);
      try {
        const { out, bytes } = await getBytes(s3, 'old/mail');
        assert.equal(bytes.toString(), 'old');
        assert.equal(out.ContentType, 'message/rfc822');
        assert.deepEqual((await readdir(shard)).sort(), [`${hash}.object`]);
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        assert.deepEqual(
          listed.Contents?.map((o) => o.Key),
          ['old/mail'],
          'listed under the key its metadata had',
        );
        await assertPrivate(dataDir);
      } finally {
        s3.destroy();
        await server.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("the emulator's key pair: random, kept in a 0600 file, the same on every start", async () => {
    const dir = await tempDir();
    try {
      const first = loadOrCreateCredentials(join(dir, 's3'));
      assert.match(first.accessKeyId, /^[A-Z0-9]{16,}$/);
      assert.ok(first.secretAccessKey.length >= 32);
      const file = join(dir, 's3', 'credentials.json');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      await chmod(file, 0o644);
      assert.deepEqual(loadOrCreateCredentials(join(dir, 's3')), first);
      assert.equal((await stat(file)).mode & 0o777, 0o600, 'mode repaired');
      assert.notDeepEqual(loadOrCreateCredentials(join(dir, 'other')), first);
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('objects survive a restart on the same dataDir; uploads in progress do not', async () => {
  const dataDir = await tempDir();
  try {
    const first = await startS3Server({ dataDir, credentials: CREDENTIALS });
    let s3 = client(first.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const data = randomBytes(12345);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'persist/ü.eml', Body: data, ContentType: 'message/rfc822' }),
    );
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'persist/mp' }));
    s3.destroy();
    await first.close();

    const second = await startS3Server({ dataDir, credentials: CREDENTIALS });
    s3 = client(second.endpoint);
    try {
      const { out, bytes } = await getBytes(s3, 'persist/ü.eml');
      assert.ok(bytes.equals(data));
      assert.equal(out.ContentType, 'message/rfc822');
      await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
      await assert.rejects(
        s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: 'persist/mp',
            UploadId: create.UploadId,
            PartNumber: 1,
            Body: 'x',
          }),
        ),
        { name: 'NoSuchUpload' },
      );
      assert.deepEqual(await readdir(join(dataDir, 'buckets', BUCKET, 'uploads')), []);
    } finally {
      s3.destroy();
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('startup removes the temp files a crash left behind', async () => {
  const dataDir = await tempDir();
  try {
    const first = await startS3Server({ dataDir, credentials: CREDENTIALS });
    const s3 = client(first.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept', Body: 'kept' }));
    s3.destroy();
    await first.close();
    const [object] = await objectFiles(dataDir);
    const shard = join(object, '..');
    await writeFile(join(shard, '.tmp-crashed'), 'partial');

    const second = await startS3Server({ dataDir, credentials: CREDENTIALS });
    const s3b = client(second.endpoint);
    try {
      assert.equal((await getBytes(s3b, 'kept')).bytes.toString(), 'kept');
      assert.deepEqual(await tempFiles(dataDir), []);
    } finally {
      s3b.destroy();
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
