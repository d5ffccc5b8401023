/** BlobStore contract: the S3 adapter through the real AWS SDK against the S3 stand-in. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { before, test } from 'node:test';
import { NotFoundError } from '../../lib/core/errors.ts';
import type { BlobCandidate, Storage } from '../../lib/core/ports.ts';
import { S3BlobStore } from '../../lib/storage/aws/blobStore.ts';
import { makeS3Client } from '../../lib/storage/aws/clients.ts';
import { freshNames, freshStorage, testEndpoints } from '../support/storage.ts';

let storage: Storage;
before(async () => {
  storage = await freshStorage();
});

async function listAll(listing: AsyncIterable<BlobCandidate>): Promise<BlobCandidate[]> {
  const all: BlobCandidate[] = [];
  for await (const candidate of listing) all.push(candidate);
  return all;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('put and get are byte-exact, including 8-bit bytes, NULs and bare CR/LF', async () => {
  const body = Buffer.from([...Buffer.from('Subject: x\r\n\r\n'), 0, 0xff, 0x0d, 0x0a, 0x0a, 0x2e, 0x80]);
  assert.deepEqual(await storage.blobs.put('messages/exact', body), { size: body.length });
  assert.deepEqual(await collect(await storage.blobs.get('messages/exact')), body);
  assert.equal(await storage.blobs.head('messages/exact'), body.length);
});

test('ranged reads return exactly the requested bytes', async () => {
  const body = Buffer.from('0123456789abcdefghij');
  await storage.blobs.put('messages/range', body);
  assert.equal((await collect(await storage.blobs.get('messages/range', { start: 3, end: 7 }))).toString(), '34567');
  assert.equal((await collect(await storage.blobs.get('messages/range', { start: 15 }))).toString(), 'fghij');
});

test('a streamed 12 MB body is uploaded as it is read (multipart) and comes back intact', async () => {
  const part = Buffer.alloc(1024 * 1024);
  const hash = createHash('sha256');
  let i = 0;
  const source = new Readable({
    read() {
      if (i++ >= 12) return this.push(null);
      part.fill(i);
      hash.update(part);
      this.push(Buffer.from(part));
    },
  });
  const { size } = await storage.blobs.put('messages/big', source);
  assert.equal(size, 12 * 1024 * 1024);
  const back = createHash('sha256')
    .update(await collect(await storage.blobs.get('messages/big')))
    .digest('hex');
  assert.equal(back, hash.digest('hex'));
});

test('part boundaries: bodies of 5 MiB, 5 MiB + 1, 15 MiB + 3 in odd chunks and one 11 MiB Buffer come back intact', async () => {
  const MiB = 1024 * 1024;
  for (const length of [5 * MiB, 5 * MiB + 1, 15 * MiB + 3, 11 * MiB]) {
    const body = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4096) body[i] = (i / 4096) & 0xff;
    body[length - 1] = 0x7f;
    const chunked = length === 11 * MiB ? body : Readable.from(chunksOf(body, 65_537));
    const { size } = await storage.blobs.put(`messages/edge-${length}`, chunked);
    assert.equal(size, length);
    const back = await collect(await storage.blobs.get(`messages/edge-${length}`));
    assert.ok(back.equals(body), `${length} octets differ`);
  }
});

test('a stream that fails after 7 MiB: put throws, and no object is left under the key', async () => {
  let sent = 0;
  const failing = new Readable({
    read() {
      if (sent >= 7 * 1024 * 1024) return this.destroy(new Error('client went away'));
      sent += 1024 * 1024;
      this.push(Buffer.alloc(1024 * 1024, 0x61));
    },
  });
  await assert.rejects(storage.blobs.put('messages/failed', failing), /blob upload failed: client went away/);
  assert.equal(await storage.blobs.head('messages/failed'), undefined);
});

function* chunksOf(body: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

test('missing objects: get throws NotFoundError, head is undefined, delete is idempotent', async () => {
  await assert.rejects(storage.blobs.get('messages/none'), NotFoundError);
  assert.equal(await storage.blobs.head('messages/none'), undefined);
  await storage.blobs.put('messages/gone', Buffer.from('x'));
  await storage.blobs.delete('messages/gone');
  await storage.blobs.delete('messages/gone');
  assert.equal(await storage.blobs.head('messages/gone'), undefined);
});

test('list yields the candidates under a prefix, in UTF-8 binary order, with their upload time', async () => {
  const before = Date.now();
  for (const key of ['listed/b', 'listed/a', 'listed/\u00e9', 'listed-not/x', 'other/listed/x']) {
    await storage.blobs.put(key, Buffer.from(key));
  }
  const listed = await listAll(storage.blobs.list('listed/'));
  assert.deepEqual(
    listed.map((c) => c.key),
    ['listed/a', 'listed/b', 'listed/\u00e9'],
  );
  for (const candidate of listed) {
    assert.deepEqual(Object.keys(candidate).sort(), ['key', 'lastModified'], 'exactly a BlobCandidate');
    assert.ok(candidate.lastModified >= before - 1000 && candidate.lastModified <= Date.now() + 1000);
  }
  assert.deepEqual(await listAll(storage.blobs.list('nothing/')), []);
});

test('list crosses pages of max-keys, asking for the next page only as the caller goes on', async () => {
  const endpoints = await testEndpoints();
  const names = await freshNames(endpoints);
  const s3 = makeS3Client(endpoints);
  const requests: string[] = [];
  s3.middlewareStack.add(
    (next, context) => (args) => {
      requests.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'build' },
  );
  try {
    const blobs = new S3BlobStore(s3, names.bucket, 2);
    const keys = ['paged/1', 'paged/2', 'paged/3', 'paged/4', 'paged/5'];
    for (const key of keys) await blobs.put(key, Buffer.from(key));
    requests.length = 0;
    const listing = blobs.list('paged/')[Symbol.asyncIterator]();
    assert.equal((await listing.next()).value?.key, 'paged/1');
    assert.deepEqual(requests, ['ListObjectsV2Command'], 'one page fetched for the first candidate');
    const rest: string[] = [];
    for (let next = await listing.next(); !next.done; next = await listing.next()) rest.push(next.value.key);
    assert.deepEqual(rest, keys.slice(1));
    assert.equal(requests.length, 3, 'five keys in pages of two');
  } finally {
    s3.destroy();
  }
});
