/**
 * Request-body helpers: the `aws-chunked` content-encoding decoder and the
 * flexible-checksum algorithms S3 clients may send (x-amz-checksum-*).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { errors } from './errors.ts';

const MAX_LINE = 64 * 1024;
const MAX_TRAILERS = 64;

enum State {
  Size = 0,
  Data = 1,
  DataEnd = 2,
  Trailer = 3,
  Done = 4,
}

/**
 * Decode an aws-chunked body: `hex-size[;chunk-signature=..]\r\n data \r\n`
 * repeated, terminated by a zero-size chunk, optionally followed by trailer
 * lines (`x-amz-checksum-crc32:...`) and an empty line. Signatures are ignored.
 * Trailers are stored (lower-cased names) into `trailers`.
 */
export async function* decodeAwsChunked(
  source: AsyncIterable<Buffer>,
  trailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  let state: State = State.Size;
  let remaining = 0;
  let pending: Buffer | null = null;

  const takeTrailer = (line: string) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw errors.incompleteBody('Malformed aws-chunked trailer');
    if (trailers.size >= MAX_TRAILERS) throw errors.incompleteBody('Too many aws-chunked trailers');
    trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  };

  for await (const chunk of source) {
    const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let off = 0;
    while (off < buf.length) {
      if (state === State.Data) {
        const n = Math.min(remaining, buf.length - off);
        yield buf.subarray(off, off + n);
        off += n;
        remaining -= n;
        if (remaining === 0) state = State.DataEnd;
        continue;
      }
      if (state === State.Done) {
        // Tolerate trailing whitespace after the terminating empty line.
        if (buf.subarray(off).toString('latin1').trim() !== '') {
          throw errors.incompleteBody('Unexpected data after aws-chunked body');
        }
        off = buf.length;
        break;
      }
      const nl = buf.indexOf(0x0a, off);
      if (nl < 0) {
        pending = buf.subarray(off);
        if (pending.length > MAX_LINE) throw errors.incompleteBody('aws-chunked header line too long');
        break;
      }
      if (nl - off > MAX_LINE) throw errors.incompleteBody('aws-chunked header line too long');
      let line = buf.toString('latin1', off, nl);
      off = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (state === State.DataEnd) {
        if (line !== '') throw errors.incompleteBody('Malformed aws-chunked body: missing CRLF after chunk data');
        state = State.Size;
      } else if (state === State.Size) {
        const semi = line.indexOf(';');
        const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) throw errors.incompleteBody('Malformed aws-chunked chunk size');
        const size = Number.parseInt(hex, 16);
        if (size === 0) {
          state = State.Trailer;
        } else {
          remaining = size;
          state = State.Data;
        }
      } else if (state === State.Trailer) {
        if (line === '') state = State.Done;
        else takeTrailer(line);
      }
    }
  }
  if (state === State.Trailer && pending && pending.length > 0) {
    const line = pending.toString('latin1').replace(/\r$/, '');
    if (line !== '') takeTrailer(line);
    pending = null;
  }
  if (state !== State.Trailer && state !== State.Done) {
    throw errors.incompleteBody('The aws-chunked body ended before the terminating chunk');
  }
}

// ---------------------------------------------------------------------------
// Checksums

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function checksumAlgorithmFromHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.exec(name.trim().toLowerCase());
  return m ? (m[1].toUpperCase() as ChecksumAlgorithm) : undefined;
}

export interface Hasher {
  update(data: Buffer): void;
  /** base64 of the big-endian digest, as S3 transmits it */
  digestBase64(): string;
}

function makeCrc32cTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

function makeCrc64Tables(): { hi: Uint32Array; lo: Uint32Array } {
  const poly = 0x9a6c9329ac4bc9b5n;
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    hi[i] = Number(c >> 32n);
    lo[i] = Number(c & 0xffffffffn);
  }
  return { hi, lo };
}

let crc32cTable: Uint32Array | undefined;
let crc64Tables: { hi: Uint32Array; lo: Uint32Array } | undefined;

function uint32Base64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}

export function createChecksumHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'CRC32': {
      let v = 0;
      return {
        update: (d) => {
          v = crc32(d, v);
        },
        digestBase64: () => uint32Base64(v),
      };
    }
    case 'CRC32C': {
      crc32cTable ??= makeCrc32cTable();
      const t = crc32cTable;
      let c = 0xffffffff;
      return {
        update: (d) => {
          for (let i = 0; i < d.length; i++) c = t[(c ^ d[i]) & 0xff] ^ (c >>> 8);
        },
        digestBase64: () => uint32Base64(~c),
      };
    }
    case 'CRC64NVME': {
      crc64Tables ??= makeCrc64Tables();
      const { hi: th, lo: tl } = crc64Tables;
      let hi = 0xffffffff;
      let lo = 0xffffffff;
      return {
        update: (d) => {
          for (let i = 0; i < d.length; i++) {
            const idx = (lo ^ d[i]) & 0xff;
            lo = (((lo >>> 8) | (hi << 24)) ^ tl[idx]) >>> 0;
            hi = ((hi >>> 8) ^ th[idx]) >>> 0;
          }
        },
        digestBase64: () => {
          const b = Buffer.alloc(8);
          b.writeUInt32BE(~hi >>> 0, 0);
          b.writeUInt32BE(~lo >>> 0, 4);
          return b.toString('base64');
        },
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return {
        update: (d) => {
          h.update(d);
        },
        digestBase64: () => h.digest('base64'),
      };
    }
  }
}
