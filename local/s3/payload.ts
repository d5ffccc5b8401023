/**
 * Request bodies as the signature declared them (auth.ts returns the payload hash): checked against a signed
 * SHA-256, decoded from aws-chunked, or taken as sent (UNSIGNED-PAYLOAD). Object bodies are also checked
 * against their length and flexible checksum (x-amz-checksum-*, sent as a header or a trailer).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD } from './auth.ts';
import { decodeAwsChunked } from './chunked.ts';
import { errors } from './errors.ts';
import { discard, spoolToTemp } from './files.ts';
import { header, requestBody } from './http.ts';
import type { Ctx } from './respond.ts';

const MAX_OBJECT_SIZE = 5 * 1024 ** 3;
const CHECKSUM_HEADER = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/;
/** The flexible checksums verified here (CRC32 is the SDK's default); the others are refused. */
const CHECKSUMS: Record<string, () => { update(data: Buffer): void; digest(): Buffer }> = {
  crc32: () => {
    let value = 0;
    return {
      update(data) {
        value = crc32(data, value);
      },
      digest() {
        const out = Buffer.alloc(4);
        out.writeUInt32BE(value);
        return out;
      },
    };
  },
  sha1: () => createHash('sha1'),
  sha256: () => createHash('sha256'),
};

/** The body's bytes; throws XAmzContentSHA256Mismatch at the end when they are not what was signed. */
async function* payload(ctx: Ctx, trailers: Map<string, string>): AsyncGenerator<Buffer> {
  const body = requestBody(ctx.req) as AsyncIterable<Buffer>;
  if (ctx.payloadHash === STREAMING_UNSIGNED_TRAILER) {
    yield* decodeAwsChunked(body, trailers);
  } else if (ctx.payloadHash === UNSIGNED_PAYLOAD) {
    yield* body;
  } else {
    const hash = createHash('sha256');
    for await (const chunk of body) {
      hash.update(chunk);
      yield chunk;
    }
    if (hash.digest('hex') !== ctx.payloadHash) throw errors.sha256Mismatch();
  }
}

/** A small body (XML, or the empty body of most requests), verified like any other. */
export async function readSmallPayload(ctx: Ctx, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload(ctx, new Map())) {
    size += chunk.length;
    if (size > limit) throw errors.tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function declaredLength(ctx: Ctx): number {
  const chunked = ctx.payloadHash === STREAMING_UNSIGNED_TRAILER;
  const raw = header(ctx.req, chunked ? 'x-amz-decoded-content-length' : 'content-length')?.trim();
  if (raw === undefined) throw errors.missingContentLength();
  if (!/^\d{1,13}$/.test(raw)) throw errors.invalidArgument('Invalid content length');
  if (Number(raw) > MAX_OBJECT_SIZE) throw errors.entityTooLarge();
  return Number(raw);
}

/** The flexible checksum named by x-amz-trailer or sent as a header, with where to find its value. */
function declaredChecksum(ctx: Ctx) {
  const trailer = header(ctx.req, 'x-amz-trailer')?.trim().toLowerCase();
  const name = trailer ?? Object.keys(ctx.req.headers).find((h) => CHECKSUM_HEADER.test(h));
  if (name === undefined) return undefined;
  const algorithm = CHECKSUM_HEADER.exec(name)?.[1] ?? '';
  if (!(algorithm in CHECKSUMS)) throw errors.notImplemented(`the ${name} checksum`);
  const value = (trailers: Map<string, string>) => (trailer ? trailers.get(name) : header(ctx.req, name));
  return { name, hash: CHECKSUMS[algorithm](), value };
}

/** Receives a body into a temp file in `dir` from offset `start`, verified; nothing is left behind on failure. */
export async function receiveBody(
  ctx: Ctx,
  dir: string,
  start: number,
): Promise<{ tmpPath: string; size: number; md5: string }> {
  const length = declaredLength(ctx);
  const checksum = declaredChecksum(ctx);
  const md5 = createHash('md5');
  const trailers = new Map<string, string>();
  let size = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of payload(ctx, trailers)) {
      size += chunk.length;
      if (size > length) throw errors.incompleteBody('The body is longer than its declared length');
      md5.update(chunk);
      checksum?.hash.update(chunk);
      yield chunk;
    }
  }
  const tmpPath = await spoolToTemp(dir, hashed(), start);
  const digest = md5.digest();
  try {
    if (size !== length) throw errors.incompleteBody();
    const expected = checksum?.value(trailers)?.trim();
    if (checksum && expected !== checksum.hash.digest().toString('base64')) throw errors.badDigest(checksum.name);
  } catch (err) {
    await discard(tmpPath);
    throw err;
  }
  return { tmpPath, size, md5: digest.toString('hex') };
}
