/**
 * Reads what a DSN returns of the original message, bounded: the header section (RET=HDRS, and our default
 * to keep reports small) or the message's first `limit` octets (RET=FULL). Reading stops at the bound, so a
 * 40 MB message costs one bounded read, never its whole size in memory.
 */
import type { Readable } from 'node:stream';
import type { ReturnedContent } from './dsn.ts';

/** Default bound of what is returned (RFC 3461 §4.3 lets an MTA return less than the full message). */
export const RETURNED_LIMIT = 64 * 1024;

const END_OF_HEADERS = Buffer.from('\r\n\r\n');

/** Reads up to `limit + 1` octets (one more tells us whether there was more) and stops the stream. */
async function readPrefix(stream: Readable, limit: number, stopAtHeaderEnd: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // The last 3 octets read: the empty line may straddle chunks, however small they are.
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      chunks.push(buf);
      size += buf.length;
      if (size > limit) break;
      const window = Buffer.concat([tail, buf]);
      if (stopAtHeaderEnd && window.includes(END_OF_HEADERS)) break;
      tail = window.subarray(-3);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** Cuts at the last line end at or before `limit`, so the returned text ends with a whole line. */
function cutAtLine(bytes: Buffer, limit: number): Buffer {
  if (bytes.length <= limit) return bytes;
  const end = bytes.lastIndexOf('\n', limit - 1);
  return end > 0 ? bytes.subarray(0, end + 1) : bytes.subarray(0, limit);
}

export async function readReturned(
  open: () => Promise<Readable>,
  kind: ReturnedContent['kind'],
  limit = RETURNED_LIMIT,
): Promise<ReturnedContent> {
  const prefix = await readPrefix(await open(), limit, kind === 'headers');
  if (kind === 'headers') {
    const end = prefix.indexOf(END_OF_HEADERS);
    if (end >= 0 && end + 2 <= limit) return { kind, bytes: prefix.subarray(0, end + 2), truncated: false, limit };
    // No empty line: a message with no body, or a header section beyond the bound.
    return { kind, bytes: ensureLineEnd(cutAtLine(prefix, limit)), truncated: prefix.length > limit, limit };
  }
  return { kind, bytes: ensureLineEnd(cutAtLine(prefix, limit)), truncated: prefix.length > limit, limit };
}

function ensureLineEnd(bytes: Buffer): Buffer {
  return bytes.length === 0 || bytes.at(-1) === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from('\r\n')]);
}
