/**
 * Contract tests for the local S3 stand-in (local/s3/server.ts), driven
 * through the real AWS SDK v3 client and @aws-sdk/lib-storage.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
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
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type S3Server, startS3Server } from '../../local/s3/server.ts';

const BUCKET = 'postern-test';

function client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
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

/** Every file (not directory) below `dir`, as absolute paths. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function tempFiles(dir: string): Promise<string[]> {
  return (await walk(dir)).filter((p) => p.split(sep).pop()?.startsWith('.tmp-'));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

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

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('local S3 server', () => {
  let dataDir: string;
  let server: S3Server;
  let s3: S3Client;

  before(async () => {
    dataDir = await tempDir();
    server = await startS3Server({ dataDir, port: 0 });
    s3 = client(server.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3.destroy();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('create bucket is idempotent; head/list buckets; missing bucket errors', async () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      [BUCKET],
    );
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
    const bad = await raw(server, 'PUT', '/Bad_Name');
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /<Code>InvalidBucketName<\/Code>/);
  });

  test('put/get/head/delete round-trip bytes exactly (binary, empty, odd keys, metadata)', async () => {
    const binary = Buffer.alloc(256 * 40);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7 + (i >> 8)) & 0xff;
    const cases: [string, Buffer][] = [
      ['mail/binary.bin', binary],
      ['empty', Buffer.alloc(0)],
      ['with space/and+plus & amp?q=1#frag', Buffer.from('plus')],
      ['unicodé/ключ/邮件/😀.eml', Buffer.from('unicode')],
      ['percent%20not%2Fdecoded%', Buffer.from('percent')],
      ['trailing/', Buffer.from('slash')],
      ['tab\tcr\rnl\n<xml>&"\'', Buffer.from('control')],
    ];
    for (const [key, data] of cases) {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: data,
          ContentType: 'message/rfc822',
          Metadata: { 'mail-from': 'a@example.com', flags: '\\Seen' },
        }),
      );
      const md5 = createHash('md5').update(data).digest('hex');
      assert.equal(put.ETag, `"${md5}"`, key);
      const { out, bytes } = await getBytes(s3, key);
      assert.ok(bytes.equals(data), `round trip of ${JSON.stringify(key)}`);
      assert.equal(out.ContentLength, data.length);
      assert.equal(out.ContentType, 'message/rfc822');
      assert.equal(out.ETag, `"${md5}"`);
      assert.deepEqual(out.Metadata, { 'mail-from': 'a@example.com', flags: '\\Seen' });
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentLength, data.length);
      assert.equal(head.ETag, `"${md5}"`);
      assert.ok(head.LastModified instanceof Date);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    for (const [key] of cases)
      assert.ok(
        listed.Contents?.some((c) => c.Key === key),
        `listed ${JSON.stringify(key)}`,
      );

    // overwrite replaces atomically and the old data file is gone
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mail/binary.bin', Body: 'v2' }));
    assert.equal((await getBytes(s3, 'mail/binary.bin')).bytes.toString(), 'v2');

    for (const [key] of cases) {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NoSuchKey' });
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
    }
    // deleting a missing key is fine (204)
    const del = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'never-existed' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    // the NoSuchKey error is S3 XML
    const res = await raw(server, 'GET', `/${BUCKET}/never-existed`);
    assert.equal(res.status, 404);
    assert.match(res.body.toString(), /<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message>/);
    const data = (await walk(dataDir)).filter((p) => p.endsWith('.data'));
    assert.deepEqual(data, [], 'no data files left after deleting everything');
  });

  test('ranged gets: a-b, a-, -n, clamping and 416', async () => {
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
      const res = await raw(server, 'GET', `/${BUCKET}/range`, { Range: range });
      assert.equal(res.status, 200, range);
      assert.ok(res.body.equals(data), range);
    }
    const raw416 = await raw(server, 'GET', `/${BUCKET}/range`, { Range: 'bytes=100-' });
    assert.equal(raw416.headers['content-range'], 'bytes */100');
    // ranges on an empty object are unsatisfiable
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range-empty', Body: Buffer.alloc(0) }));
    await assert.rejects(getBytes(s3, 'range-empty', 'bytes=0-'), { name: 'InvalidRange' });
    // ranged HEAD
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'range', Range: 'bytes=0-9' }));
    assert.equal(head.ContentLength, 10);
    assert.equal(head.ContentRange, 'bytes 0-9/100');
  });

  test('list with prefix, delimiter and pagination', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 25; i++) keys.push(`list/${String(i).padStart(2, '0')}-${i % 2 ? 'odd' : 'even'}`);
    const shuffled = [...keys].sort(() => Math.random() - 0.5);
    for (const key of shuffled) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'listx', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'lis', Body: 'x' }));

    const seen: string[] = [];
    let token: string | undefined;
    const pageSizes: number[] = [];
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', MaxKeys: 10, ContinuationToken: token }),
      );
      pageSizes.push(page.KeyCount ?? -1);
      assert.equal(page.MaxKeys, 10);
      assert.equal(page.Prefix, 'list/');
      for (const c of page.Contents ?? []) {
        seen.push(c.Key ?? '');
        assert.equal(c.Size, Buffer.byteLength(c.Key ?? ''));
        assert.match(c.ETag ?? '', /^"[0-9a-f]{32}"$/);
        assert.ok(c.LastModified instanceof Date);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) assert.ok(token);
    } while (token);
    assert.deepEqual(pageSizes, [10, 10, 5]);
    assert.deepEqual(seen, [...keys].sort());

    // start-after
    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/20-even' }),
    );
    assert.deepEqual(
      after.Contents?.map((c) => c.Key),
      ['list/21-odd', 'list/22-even', 'list/23-odd', 'list/24-even'],
    );

    // delimiter groups into common prefixes, paginating across them
    for (const k of ['tree/a/1', 'tree/a/2', 'tree/b/1', 'tree/c', 'tree/d/x/y', 'tree/e']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: k }));
    }
    const items: string[] = [];
    token = undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: 'tree/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) items.push(`P:${p.Prefix}`);
      for (const c of page.Contents ?? []) items.push(`K:${c.Key}`);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.deepEqual(items.sort(), ['K:tree/c', 'K:tree/e', 'P:tree/a/', 'P:tree/b/', 'P:tree/d/'].sort());

    const empty = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'nothing-here/' }));
    assert.equal(empty.KeyCount, 0);
    assert.equal(empty.IsTruncated, false);
    assert.equal(empty.Contents, undefined);

    await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: '!!not-a-token' })), {
      name: 'InvalidArgument',
    });
  });

  test('30 MB lib-storage Upload streamed with 5 MB parts', async () => {
    const total = 30 * 1024 * 1024;
    const hash = createHash('sha256');
    let sent = 0;
    // a generator yields odd-sized chunks, so lib-storage must re-chunk into parts
    async function* produce() {
      while (sent < total) {
        const n = Math.min(total - sent, 700_001);
        const chunk = randomBytes(n);
        hash.update(chunk);
        sent += n;
        yield chunk;
      }
    }
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: BUCKET,
        Key: 'big/30mb.bin',
        Body: Readable.from(produce()),
        ContentType: 'application/x-test',
      },
      partSize: 5 * 1024 * 1024,
      queueSize: 4,
    });
    const result = await upload.done();
    const expected = hash.digest('hex');
    assert.match(result.ETag ?? '', /^"[0-9a-f]{32}-6"$/);

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
    assert.equal(head.ContentLength, total);
    assert.equal(head.ContentType, 'application/x-test');
    assert.equal(head.ETag, result.ETag);

    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
    const got = createHash('sha256');
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
    const uploadsDir = join(dataDir, 'buckets', BUCKET, 'uploads');
    assert.deepEqual(await readdir(uploadsDir), []);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'big/30mb.bin' }));
  });

  test('multipart errors: abort, wrong etag, small parts, order', async () => {
    const key = 'mp/manual';
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const uploadId = create.UploadId ?? '';
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: Buffer.alloc(10) }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2, Body: Buffer.alloc(10) }),
    );
    // part 1 is below the 5 MiB minimum
    await assert.rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 2, ETag: p2.ETag },
            ],
          },
        }),
      ),
      { name: 'EntityTooSmall' },
    );
    await assert.rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
        }),
      ),
      { name: 'InvalidPart' },
    );
    await assert.rejects(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 2, ETag: p2.ETag },
              { PartNumber: 1, ETag: p1.ETag },
            ],
          },
        }),
      ),
      { name: 'InvalidPartOrder' },
    );
    // a single (last) part may be small
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    assert.match(done.ETag ?? '', /-1"$/);
    assert.equal((await getBytes(s3, key)).bytes.length, 10);

    const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/aborted' }));
    await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'mp/aborted',
        UploadId: second.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(10),
      }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/aborted', UploadId: second.UploadId }));
    await assert.rejects(
      s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: 'mp/aborted',
          UploadId: second.UploadId,
          PartNumber: 2,
          Body: 'x',
        }),
      ),
      { name: 'NoSuchUpload' },
    );
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
    assert.equal((await raw(server, 'PUT', '/..%2F..%2Fescape')).status, 400);
    assert.equal((await raw(server, 'PUT', '/..%2F..%2Fescape/key', { 'Content-Length': '1' }, 'x')).status, 404);
    // raw requests with encoded dot segments are keys too, never paths
    for (const path of [`/${BUCKET}/%2e%2e/%2e%2e/raw-escape`, `/${BUCKET}/..%2f..%2fraw-escape2`]) {
      const res = await raw(server, 'PUT', path, { 'Content-Length': '3' }, 'abc');
      assert.equal(res.status, 200, path);
    }
    const rootReal = await realpath(dataDir);
    for (const file of await walk(dataDir)) {
      const real = await realpath(file);
      assert.ok(!relative(rootReal, real).startsWith('..'), `${real} escaped ${rootReal}`);
      assert.ok(!/passwd|escape|windows/.test(file), `key used as a file name: ${file}`);
    }
    assert.deepEqual((await readdir(parent)).sort(), siblingsBefore, 'nothing created next to dataDir');
    await assert.rejects(stat('/tmp/postern-escape'));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: '..' }));
    assert.ok(listed.Contents?.some((c) => c.Key === '../../etc/passwd'));
    for (const key of evil) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
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

      // over HTTP, for other processes
      const set = await raw(
        server,
        'POST',
        '/_postern/faults',
        { 'Content-Type': 'application/json' },
        JSON.stringify({ op: 'HeadObject', count: 2, status: 503 }),
      );
      assert.equal(set.status, 200);
      assert.equal(server.faults.pending().length, 1);
      await assert.rejects(once.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'faulty' })), (e: Error) => {
        assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
        return true;
      });
      const bad = await raw(server, 'POST', '/_postern/faults', {}, JSON.stringify({ op: 'Nope' }));
      assert.equal(bad.status, 400);
      const cleared = await raw(server, 'DELETE', '/_postern/faults');
      assert.equal(cleared.status, 200);
      assert.deepEqual(server.faults.pending(), []);
      await once.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'faulty' }));

      // a failed multipart part does not break the upload when retried
      server.faults.failNext('UploadPart', 1, 500);
      const up = new Upload({
        client: s3,
        params: { Bucket: BUCKET, Key: 'faulty-mp', Body: randomBytes(11 * 1024 * 1024) },
        partSize: 5 * 1024 * 1024,
      });
      await up.done();
      assert.equal(
        (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'faulty-mp' }))).ContentLength,
        11 * 1024 * 1024,
      );
      assert.equal(server.faults.pending().length, 0);
    } finally {
      server.faults.clear();
      once.destroy();
    }
  });

  test('aborted upload (client disconnects mid-body) leaves no object and no temp files', async () => {
    const key = 'aborted/upload';
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: `/${BUCKET}/${encodeURIComponent(key)}`,
        headers: { 'Content-Length': String(1024 * 1024) },
        agent: false,
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(randomBytes(256 * 1024));
      // destroy only once the server is demonstrably mid-body (its temp file exists)
      waitFor('spooling to start', async () => (await tempFiles(dataDir)).length > 0).then(
        () => req.destroy(),
        () => req.destroy(),
      );
    });
    // wait until the server noticed and cleaned up
    await waitFor('temp files removed', async () => (await tempFiles(dataDir)).length === 0);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });

    // same for a multipart part
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: `/${BUCKET}/${encodeURIComponent(key)}?partNumber=1&uploadId=${create.UploadId}`,
        headers: { 'Content-Length': String(6 * 1024 * 1024) },
        agent: false,
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(randomBytes(256 * 1024));
      waitFor('spooling to start', async () => (await tempFiles(dataDir)).length > 0).then(
        () => req.destroy(),
        () => req.destroy(),
      );
    });
    await waitFor('temp files removed', async () => (await tempFiles(dataDir)).length === 0);
    const uploadDir = join(dataDir, 'buckets', BUCKET, 'uploads', create.UploadId ?? '');
    assert.deepEqual(await readdir(uploadDir), ['upload.json']);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: create.UploadId }));

    // a short body (Content-Length larger than what is sent, then EOF) also stores nothing
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
  });

  test('aws-chunked bodies (signed chunks, unsigned trailer) are decoded', async () => {
    const data = randomBytes(200_000);
    const pieces = [data.subarray(0, 65536), data.subarray(65536, 131072), data.subarray(131072)];
    const sig = 'a'.repeat(64);
    // signed framing, no trailer
    const signed = Buffer.concat([
      ...pieces.flatMap((p) => [
        Buffer.from(`${p.length.toString(16)};chunk-signature=${sig}\r\n`),
        p,
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`0;chunk-signature=${sig}\r\n\r\n`),
    ]);
    let res = await raw(
      server,
      'PUT',
      `/${BUCKET}/chunked/signed`,
      {
        'Content-Encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(data.length),
        'Content-Length': String(signed.length),
      },
      signed,
    );
    assert.equal(res.status, 200, res.body.toString());
    assert.ok((await getBytes(s3, 'chunked/signed')).bytes.equals(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked/signed' }));
    assert.equal(head.ContentEncoding, undefined, 'aws-chunked is not stored as the content-encoding');

    // unsigned with a CRC32 trailer
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const trailer = Buffer.concat([
      ...pieces.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]),
      Buffer.from(`0\r\nx-amz-checksum-crc32:${crc.toString('base64')}\r\n\r\n`),
    ]);
    const trailerHeaders = {
      'Content-Encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'Content-Length': String(trailer.length),
    };
    res = await raw(server, 'PUT', `/${BUCKET}/chunked/trailer`, trailerHeaders, trailer);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['x-amz-checksum-crc32'], crc.toString('base64'));
    assert.ok((await getBytes(s3, 'chunked/trailer')).bytes.equals(data));

    // a wrong trailer checksum is rejected and nothing is stored
    const wrong = Buffer.from(trailer.toString('latin1').replace(crc.toString('base64'), 'AAAAAA=='), 'latin1');
    res = await raw(server, 'PUT', `/${BUCKET}/chunked/bad`, trailerHeaders, wrong);
    assert.equal(res.status, 400);
    assert.match(res.body.toString(), /<Code>BadDigest<\/Code>/);
    // truncated framing is rejected
    res = await raw(
      server,
      'PUT',
      `/${BUCKET}/chunked/bad`,
      { ...trailerHeaders, 'Content-Length': '100' },
      trailer.subarray(0, 100),
    );
    assert.equal(res.status, 400);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'chunked/bad' })), { name: 'NotFound' });

    // the SDK's own default (flexible checksums on) sends aws-chunked with a trailer for streams
    const defaults = new S3Client({
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await defaults.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'chunked/sdk',
          Body: Readable.from([data]),
          ContentLength: data.length,
        }),
      );
      await defaults.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'chunked/sdk-buffer', Body: data }));
      for (const key of ['chunked/sdk', 'chunked/sdk-buffer']) {
        const out = await defaults.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
        assert.ok((await bodyBytes(out.Body)).equals(data), key);
        assert.equal(out.ChecksumCRC32, crc.toString('base64'), key);
      }
      // every flexible-checksum algorithm is verified on upload and returned (and checked by the SDK) on download
      const algorithms = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
      for (const algorithm of algorithms) {
        for (const [kind, body] of [
          ['buffer', data],
          ['stream', Readable.from([data.subarray(0, 1000), data.subarray(1000)])],
        ] as const) {
          const key = `chunked/alg-${algorithm}-${kind}`;
          const put = await defaults.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: key,
              Body: body,
              ContentLength: data.length,
              ChecksumAlgorithm: algorithm,
            }),
          );
          const field = `Checksum${algorithm}` as const;
          assert.ok(put[field], `${key}: checksum echoed`);
          const out = await defaults.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
          assert.ok((await bodyBytes(out.Body)).equals(data), key);
          assert.equal(out[field], put[field], key);
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
    const files = (await walk(dataDir)).filter((p) => p.endsWith('.data'));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.equal(files.length, listed.KeyCount, 'exactly one data file per object');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  });

  test('conditional writes, copy and batch delete', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cond/once', Body: 'first', IfNoneMatch: '*' }));
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cond/once', Body: 'second', IfNoneMatch: '*' })),
      { name: 'PreconditionFailed' },
    );
    assert.equal((await getBytes(s3, 'cond/once')).bytes.toString(), 'first');

    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'cond/copy ü',
        CopySource: `${BUCKET}/${encodeURIComponent('cond/once')}`,
      }),
    );
    assert.equal(copy.CopyObjectResult?.ETag, `"${createHash('md5').update('first').digest('hex')}"`);
    assert.equal((await getBytes(s3, 'cond/copy ü')).bytes.toString(), 'first');

    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'cond/once' }, { Key: 'cond/copy ü' }, { Key: 'cond/missing' }] },
      }),
    );
    assert.deepEqual(res.Deleted?.map((d) => d.Key).sort(), ['cond/copy ü', 'cond/missing', 'cond/once']);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'cond/' }));
    assert.equal(listed.KeyCount, 0);
  });

  test('malformed and hostile input does not crash the server', async () => {
    const responses: number[] = [];
    responses.push(
      (await raw(server, 'GET', `/${BUCKET}/x`, { 'X-Huge': 'a'.repeat(100_000) }).catch(() => ({ status: -1 })))
        .status,
    );
    responses.push((await raw(server, 'GET', `/${BUCKET}/%E0%A4%A`)).status);
    responses.push((await raw(server, 'PATCH', `/${BUCKET}/x`)).status);
    responses.push((await raw(server, 'GET', `/${BUCKET}?versioning`)).status);
    responses.push((await raw(server, 'PUT', `/${BUCKET}/x?tagging`, {}, '<Tagging/>')).status);
    responses.push((await raw(server, 'POST', `/${BUCKET}/x?uploadId=nope`, {}, '<CompleteMultipartUpload>')).status);
    const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'x' }));
    responses.push((await raw(server, 'POST', `/${BUCKET}/x?uploadId=${mp.UploadId}`, {}, 'not xml')).status);
    responses.push((await raw(server, 'PUT', `/${BUCKET}/x?partNumber=0&uploadId=nope`, {}, 'x')).status);
    responses.push((await raw(server, 'GET', `/${BUCKET}?list-type=2&max-keys=abc`)).status);
    responses.push((await raw(server, 'PUT', `/${BUCKET}/${'k'.repeat(1100)}`, {}, 'x')).status);
    responses.push((await raw(server, 'PUT', `/${BUCKET}/x`, { 'Content-MD5': 'nope' }, 'x')).status);
    responses.push(
      (await raw(server, 'PUT', `/${BUCKET}/x`, { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, 'x')).status,
    );
    responses.push((await raw(server, 'PUT', `/${BUCKET}/x`, { 'Content-Encoding': 'aws-chunked' }, 'zz\r\n')).status);
    responses.push((await raw(server, 'DELETE', `/no-such-bucket/x`)).status);
    assert.deepEqual(responses, [431, 400, 405, 501, 501, 404, 400, 400, 400, 400, 400, 400, 411, 404]);

    // garbage on the socket
    await new Promise<void>((resolve) => {
      const net = request({ host: '127.0.0.1', port: server.port, method: 'GET', path: '/', agent: false });
      net.on('socket', (socket) => {
        socket.write('NOT HTTP AT ALL\r\n\r\n');
      });
      net.on('error', () => resolve());
      net.on('response', () => resolve());
      net.on('close', () => resolve());
    });
    // still serving, nothing stored
    await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'x' })), { name: 'NotFound' });
    assert.deepEqual(await tempFiles(dataDir), []);
  });
});

test('objects survive a restart on the same dataDir', async () => {
  const dataDir = await tempDir();
  try {
    const first = await startS3Server({ dataDir });
    let s3 = client(first.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const data = randomBytes(12345);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'persist/ü.eml', Body: data, Metadata: { uid: '42' } }));
    const create = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'persist/mp' }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'persist/mp',
        UploadId: create.UploadId,
        PartNumber: 1,
        Body: 'part',
      }),
    );
    s3.destroy();
    await first.close();

    const second = await startS3Server({ dataDir });
    s3 = client(second.endpoint);
    try {
      const { out, bytes } = await getBytes(s3, 'persist/ü.eml');
      assert.ok(bytes.equals(data));
      assert.deepEqual(out.Metadata, { uid: '42' });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      assert.deepEqual(
        listed.Contents?.map((c) => c.Key),
        ['persist/ü.eml'],
      );
      // an in-progress multipart upload also survives
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'persist/mp',
          UploadId: create.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assert.equal((await getBytes(s3, 'persist/mp')).bytes.toString(), 'part');
      const sidecars = (await walk(dataDir)).filter((p) => p.endsWith('.json') && p.includes(`${sep}objects${sep}`));
      assert.equal(sidecars.length, 2);
      const sidecar = JSON.parse(await readFile(sidecars[0], 'utf8'));
      assert.ok(typeof sidecar.key === 'string' && typeof sidecar.etag === 'string');
    } finally {
      s3.destroy();
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('startup removes leftovers of a crash (temp files, unreferenced data files)', async () => {
  const dataDir = await tempDir();
  try {
    const first = await startS3Server({ dataDir });
    const s3 = client(first.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept', Body: 'kept' }));
    s3.destroy();
    await first.close();
    const sidecar = (await walk(dataDir)).find((p) => p.endsWith('.json') && p.includes(`${sep}objects${sep}`));
    assert.ok(sidecar);
    const shard = join(sidecar, '..');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(shard, '.tmp-crashed'), 'partial');
    await writeFile(join(shard, `${'f'.repeat(64)}.0123456789abcdef.data`), 'orphan');

    const second = await startS3Server({ dataDir });
    const s3b = client(second.endpoint);
    try {
      assert.equal((await getBytes(s3b, 'kept')).bytes.toString(), 'kept');
      const names = await readdir(shard);
      assert.ok(!names.includes('.tmp-crashed'));
      assert.ok(!names.some((n) => n.startsWith('f'.repeat(64))));
    } finally {
      s3b.destroy();
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
