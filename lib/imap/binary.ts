/**
 * FETCH BINARY and BINARY.SIZE (RFC 3516 §4.2/§4.3): a leaf part's content with its Content-Transfer-Encoding
 * removed. The encoded octets are a ranged read found from the summary (sections.ts) and decoded as they
 * stream (lib/mime/transferDecode.ts). The literal's length must be known before its first octet, so a
 * large part is read twice: once to count the decoded octets (and see whether any is NUL: literal8 only
 * then), once to send them; the count is remembered for the session. Small parts are decoded in memory.
 */
import { pipeline, type Readable } from 'node:stream';
import type { MessageMeta } from '../core/ports.ts';
import { identityEncoding, knownEncoding, transferDecoder } from '../mime/transferDecode.ts';
import type { ImapBackend } from './backend.ts';
import { type OctetRange, partAt, sectionRange } from './sections.ts';

/** Where a BINARY section's encoded octets lie and how they decode. */
export interface BinaryPart {
  readonly range: OctetRange;
  /** Upper-case Content-Transfer-Encoding; 7BIT, 8BIT and BINARY mean as they are. */
  readonly encoding: string;
}

/** RFC 3516 §4.3: the part's encoding is one this server cannot decode: `NO [UNKNOWN-CTE]`. */
export class UnknownCteError extends Error {}

/** Decoded content this small or smaller is read into memory in one pass. */
const IN_MEMORY = 64 * 1024;
/** Counts remembered per session (a BINARY.SIZE then BINARY of the same part reads it once to count). */
const MAX_REMEMBERED = 256;

/**
 * The part a BINARY section names, or undefined when there is none. An empty part number is the whole
 * message as it is; a multipart or message/rfc822 part is served as it is when its encoding allows.
 */
export function binaryPart(meta: MessageMeta, numbers: readonly number[]): BinaryPart | undefined {
  if (numbers.length === 0) return { range: { start: 0, end: meta.size }, encoding: 'BINARY' };
  const part = meta.summary && partAt(meta.summary.body, numbers);
  const range = part && sectionRange(meta, { part: numbers });
  if (!part || !range) return undefined;
  const encoding = part.encoding.toUpperCase();
  const leaf = !part.parts && !part.message;
  if (!knownEncoding(encoding) || (!leaf && !identityEncoding(encoding))) {
    throw new UnknownCteError(`cannot decode Content-Transfer-Encoding ${encoding}`);
  }
  return { range, encoding };
}

/** The decoded octets of the part as a stream (the raw read is destroyed with it). */
export async function openDecoded(backend: ImapBackend, meta: MessageMeta, part: BinaryPart): Promise<Readable> {
  const { start, end } = part.range;
  const raw = await backend.openMessage(meta, { start, end: end - 1 });
  const decoder = transferDecoder(part.encoding);
  if (!decoder) return raw;
  pipeline(raw, decoder, () => {});
  return decoder;
}

export interface Decoded {
  /** Decoded octets. */
  readonly size: number;
  /** Whether any is NUL (the data then needs a literal8). */
  readonly nul: boolean;
  /** The octets themselves, for a small part. */
  readonly data?: Buffer;
}

const remembered = new WeakMap<object, Map<string, Decoded>>();

async function decodeAll(backend: ImapBackend, meta: MessageMeta, part: BinaryPart, keep: boolean): Promise<Decoded> {
  const chunks: Buffer[] = [];
  let size = 0;
  let nul = false;
  for await (const chunk of await openDecoded(backend, meta, part)) {
    const c = chunk as Buffer;
    size += c.length;
    nul ||= c.includes(0);
    if (keep) chunks.push(c);
  }
  return keep ? { size, nul, data: Buffer.concat(chunks) } : { size, nul };
}

/**
 * The decoded size and NUL of a part, with the octets when it is small. `owner` (the session) scopes the
 * remembered counts; an identity part's size is its length, but finding NUL still means reading it.
 */
export async function decodePart(
  owner: object,
  backend: ImapBackend,
  meta: MessageMeta,
  part: BinaryPart,
): Promise<Decoded> {
  const encoded = part.range.end - part.range.start;
  if (encoded <= IN_MEMORY) return decodeAll(backend, meta, part, true);
  const key = `${meta.mailboxId}/${meta.uid}/${part.range.start}-${part.range.end}`;
  let cache = remembered.get(owner);
  const known = cache?.get(key);
  if (known) return known;
  const counted = await decodeAll(backend, meta, part, false);
  if (!cache) {
    cache = new Map();
    remembered.set(owner, cache);
  }
  if (cache.size >= MAX_REMEMBERED) cache.clear();
  cache.set(key, counted);
  return counted;
}

/** BINARY.SIZE without reading an identity part that only its size is asked of. */
export async function decodedSize(
  owner: object,
  backend: ImapBackend,
  meta: MessageMeta,
  part: BinaryPart,
): Promise<number> {
  if (identityEncoding(part.encoding)) return part.range.end - part.range.start;
  return (await decodePart(owner, backend, meta, part)).size;
}
