/**
 * SEARCH BODY, TEXT and HEADER (RFC 9051 §6.4.4) over one stored message. The stored summary says where the text
 * parts lie, so only they are read (ranged reads, streamed, never the whole message in memory), with their
 * Content-Transfer-Encoding (base64, quoted-printable) and charset decoded and compared case-insensitively
 * as substrings. BODY looks at the body's text parts and the headers of messages inside it; TEXT also at
 * the top-level header (fields unfolded, RFC 2047 encoded words decoded), where HEADER finds the fields
 * the stored summary does not keep. Non-text parts (images, archives) are not searched.
 *
 * Bounds: at most MAX_SEARCH_OCTETS stored octets and MAX_TEXT_PARTS parts per message; past them the text
 * is not searched (a match there is not found). A message without a summary, or whose summary a limit cut
 * short, is searched as its raw octets.
 */
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import type { MessageMeta } from '../core/ports.ts';
import { decodeWords, type HeaderField, parseHeaderBlock } from '../mime/headers.ts';
import type { BodyPart } from '../mime/summary.ts';
import type { ImapBackend } from './backend.ts';
import type { TextSearchKey } from './searchEval.ts';
import type { OctetRange } from './sections.ts';

/** Stored (still encoded) octets read per message at most, all its parts together. */
export const MAX_SEARCH_OCTETS = 4 * 1024 * 1024;
/** Parts read per message at most (each one ranged read). */
export const MAX_TEXT_PARTS = 64;
/** A header block is decoded whole: past this it is searched only up to here. */
const MAX_HEADER_OCTETS = 256 * 1024;

interface TextSource {
  readonly range: OctetRange;
  /** A header block (fields unfolded and decoded) or body octets (transfer encoding and charset decoded). */
  readonly kind: 'header' | 'body';
  /** The top-level header: only TEXT looks there. */
  readonly top?: true;
  readonly encoding?: string;
  readonly charset?: string;
}

/** Where the searchable text of a message lies, in the octets clients see; the top-level header first. */
export function textSources(meta: MessageMeta): TextSource[] {
  const summary = meta.summary;
  if (!summary) return [{ range: { start: 0, end: meta.size }, kind: 'body' }];
  const shift = meta.size - summary.size;
  const headerEnd = summary.headerSize + shift;
  const out: TextSource[] = [{ range: { start: 0, end: headerEnd }, kind: 'header', top: true }];
  if (summary.truncated) out.push({ range: { start: headerEnd, end: meta.size }, kind: 'body' });
  else collectParts(summary.body, shift, out);
  return out.slice(0, MAX_TEXT_PARTS);
}

function collectParts(part: BodyPart, shift: number, out: TextSource[]): void {
  if (out.length >= MAX_TEXT_PARTS) return;
  if (part.parts) {
    for (const p of part.parts) collectParts(p, shift, out);
    return;
  }
  if (part.message) {
    const inner = part.message.body;
    out.push({ range: { start: inner.headerStart + shift, end: inner.bodyStart + shift }, kind: 'header' });
    collectParts(inner, shift, out);
    return;
  }
  if (part.type.toLowerCase() !== 'text') return;
  const range = { start: part.bodyStart + shift, end: part.bodyEnd + shift };
  out.push({ range, kind: 'body', encoding: part.encoding, charset: part.params.charset });
}

/** The comparison form: case folded (Greek final sigma folds with sigma, as a whole-string lower-casing would not). */
export function foldCase(s: string): string {
  return s.toLowerCase().replaceAll('ς', 'σ');
}

/** Substrings looked for in a stream of text chunks; a match may straddle two chunks. */
class Needles {
  private readonly open: Set<string>;
  private readonly keep: number;
  private tail = '';

  constructor(needles: readonly string[]) {
    this.open = new Set(needles.filter((n) => n !== ''));
    this.keep = Math.max(0, ...[...this.open].map((n) => n.length - 1));
  }

  get done(): boolean {
    return this.open.size === 0;
  }

  found(needle: string): boolean {
    return !this.open.has(needle);
  }

  feed(text: string): void {
    if (this.done || text === '') return;
    const s = this.tail + foldCase(text);
    for (const n of this.open) if (s.includes(n)) this.open.delete(n);
    this.tail = this.keep > 0 ? s.slice(-this.keep) : '';
  }

  /** The end of one text: nothing matches across two parts. */
  end(): void {
    this.tail = '';
  }
}

interface ByteDecoder {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

/** Base64 (RFC 2045 §6.8) in chunks: characters outside the alphabet are skipped, quads carried over. */
class Base64Decoder implements ByteDecoder {
  private rest = '';
  push(chunk: Buffer): Buffer {
    const s = this.rest + chunk.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    const whole = s.length - (s.length % 4);
    this.rest = s.slice(whole);
    return Buffer.from(s.slice(0, whole), 'base64');
  }
  end(): Buffer {
    const last = Buffer.from(this.rest, 'base64');
    this.rest = '';
    return last;
  }
}

/** Quoted-printable (RFC 2045 §6.7) in chunks: an `=` near a chunk's end waits for what follows. */
class QuotedPrintableDecoder implements ByteDecoder {
  private rest = '';
  push(chunk: Buffer): Buffer {
    let s = this.rest + chunk.toString('latin1');
    const eq = s.lastIndexOf('=');
    this.rest = eq >= 0 && eq >= s.length - 2 ? s.slice(eq) : '';
    if (this.rest) s = s.slice(0, eq);
    return decodeQuotedPrintable(s);
  }
  end(): Buffer {
    const last = decodeQuotedPrintable(this.rest);
    this.rest = '';
    return last;
  }
}

function decodeQuotedPrintable(s: string): Buffer {
  const text = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(text, 'latin1');
}

const IDENTITY: ByteDecoder = { push: (chunk) => chunk, end: () => Buffer.alloc(0) };

function transferDecoder(encoding: string | undefined): ByteDecoder {
  switch (encoding?.toUpperCase()) {
    case 'BASE64':
      return new Base64Decoder();
    case 'QUOTED-PRINTABLE':
      return new QuotedPrintableDecoder();
    default:
      return IDENTITY;
  }
}

/** A streaming decoder for a part's charset: US-ASCII and none as UTF-8 (8-bit text is mostly UTF-8), unknown ones as Latin-1. */
function charsetDecoder(charset: string | undefined): TextDecoder {
  const name = (charset ?? '').trim().toLowerCase();
  if (name === '' || name === 'us-ascii' || name === 'ascii') return new TextDecoder('utf-8');
  try {
    return new TextDecoder(name);
  } catch {
    return new TextDecoder('latin1');
  }
}

/** A header block's fields as searchable text: one line per field, unfolded, encoded words decoded. */
function fieldsText(fields: readonly HeaderField[]): string {
  return fields.map((f) => `${f.name}: ${decodeWords(f.value)}`).join('\n');
}

type HeaderKey = Extract<TextSearchKey, { type: 'HEADER' }>;

/** RFC 9051 §6.4.4 HEADER: a field of that name whose (decoded) value contains the string; "" matches any. */
function hasField(fields: readonly HeaderField[], key: HeaderKey): boolean {
  const name = key.field.toLowerCase();
  const needle = foldCase(key.value);
  return fields.some((f) => f.name === name && foldCase(decodeWords(f.value)).includes(needle));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function scan(
  stream: Readable,
  source: TextSource,
  targets: readonly Needles[],
  onFields?: (fields: readonly HeaderField[]) => void,
): Promise<void> {
  const feed = (text: string) => {
    for (const t of targets) t.feed(text);
  };
  if (source.kind === 'header') {
    const fields = parseHeaderBlock(await readAll(stream));
    onFields?.(fields);
    return feed(fieldsText(fields));
  }
  const bytes = transferDecoder(source.encoding);
  const chars = charsetDecoder(source.charset);
  for await (const chunk of stream) {
    feed(chars.decode(bytes.push(chunk as Buffer), { stream: true }));
    // leaving the loop destroys the stream: the rest of the part is not fetched
    if (targets.every((t) => t.done)) return;
  }
  feed(chars.decode(bytes.end()));
}

/** Whether each key matches this message, reading only as much of it as it takes. */
export async function searchText(
  backend: ImapBackend,
  meta: MessageMeta,
  keys: readonly TextSearchKey[],
): Promise<Map<TextSearchKey, boolean>> {
  const needles = (type: 'BODY' | 'TEXT') =>
    new Needles(keys.flatMap((k) => (k.type === type ? [foldCase(k.value)] : [])));
  const body = needles('BODY');
  const text = needles('TEXT');
  const headerKeys = keys.filter((k): k is HeaderKey => k.type === 'HEADER');
  // no header read (no summary, or a header past the budget): no such field
  const answers = new Map<TextSearchKey, boolean>(headerKeys.map((k) => [k, false]));
  const onFields = (fields: readonly HeaderField[]) => {
    for (const k of headerKeys) answers.set(k, hasField(fields, k));
  };
  let budget = MAX_SEARCH_OCTETS;
  for (const source of textSources(meta)) {
    const targets = (source.top ? [text] : [body, text]).filter((t) => !t.done);
    const fields = source.top && headerKeys.length > 0 ? onFields : undefined;
    if (targets.length === 0 && !fields) {
      // the top-level header comes first; past it, nothing left to look for
      if (source.top) continue;
      break;
    }
    const cap = Math.min(budget, source.kind === 'header' ? MAX_HEADER_OCTETS : budget);
    const end = Math.min(source.range.end, source.range.start + cap);
    if (end <= source.range.start) continue;
    budget -= end - source.range.start;
    const stream = await backend.openMessage(meta, { start: source.range.start, end: end - 1 });
    try {
      await scan(stream, source, targets, fields);
    } finally {
      stream.destroy();
      for (const t of targets) t.end();
    }
  }
  for (const k of keys) {
    if (k.type !== 'HEADER') answers.set(k, (k.type === 'BODY' ? body : text).found(foldCase(k.value)));
  }
  return answers;
}
