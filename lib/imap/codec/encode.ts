/**
 * Response values and their wire form (RFC 9051 §4): atoms, numbers, NIL, strings (quoted or literal, as
 * the octets require), lists, and literals whose octets come later from a stream, so a 40 MB BODY[] is
 * never held in memory. A response is a list of segments: Buffers to write as they are, and
 * `LiteralStream` markers where the session pipes exactly `length` octets from its source.
 */
import { encodeModifiedUtf7 } from './mutf7.ts';

export interface LiteralStream<S> {
  readonly kind: 'literal-stream';
  readonly length: number;
  readonly binary: boolean;
  /** Whatever the session needs to produce the octets (an S3 range, a stream factory ...). */
  readonly source: S;
}

export type Segment<S = never> = Buffer | LiteralStream<S>;

export type Value<S = never> =
  /** Written verbatim: protocol words, flags, FETCH item names. Never user data. */
  | { readonly t: 'atom'; readonly v: string }
  | { readonly t: 'number'; readonly v: number | bigint }
  /** A string: quoted when it can be, else a literal. */
  | { readonly t: 'string'; readonly v: string | Buffer }
  /** An astring: an atom when it can be, else as `string`. */
  | { readonly t: 'astring'; readonly v: string }
  | { readonly t: 'nil' }
  /** Always a literal (message octets); literal8 when `binary` (RFC 3516). */
  | { readonly t: 'literal'; readonly v: Buffer; readonly binary: boolean }
  | { readonly t: 'stream'; readonly length: number; readonly binary: boolean; readonly source: S }
  /** A parenthesised list, items separated by SP. */
  | { readonly t: 'list'; readonly v: readonly Value<S>[] }
  /** Items written back to back (a multipart's bodies: RFC 9051 §9 `1*body`). */
  | { readonly t: 'concat'; readonly v: readonly Value<S>[] };

export interface WriteOptions {
  /** UTF8=ACCEPT or IMAP4rev2 enabled: 8-bit UTF-8 may be quoted and mailbox names are UTF-8. */
  readonly utf8: boolean;
}

export const atom = (v: string): Value => ({ t: 'atom', v });
export const num = (v: number | bigint): Value => ({ t: 'number', v });
export const str = (v: string | Buffer): Value => ({ t: 'string', v });
export const astr = (v: string): Value => ({ t: 'astring', v });
export const NIL: Value = { t: 'nil' };
export const nstr = (v: string | null | undefined): Value => (v === null || v === undefined ? NIL : str(v));
export const list = <S = never>(v: readonly Value<S>[]): Value<S> => ({ t: 'list', v });
export const concat = <S = never>(v: readonly Value<S>[]): Value<S> => ({ t: 'concat', v });
export const literal = (v: Buffer, binary = false): Value => ({ t: 'literal', v, binary });
export const streamed = <S>(length: number, source: S, binary = false): Value<S> => ({
  t: 'stream',
  length,
  binary,
  source,
});

/** Longer strings go as literals, which clients read without scanning for quotes. */
const MAX_QUOTED = 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function validUtf8(bytes: Buffer): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a string must be a literal: CR or LF (RFC 9051 §4.3: quoted strings are TEXT-CHARs), 8-bit
 * octets outside UTF-8 mode (or not valid UTF-8), or length.
 */
export function needsLiteral(bytes: Buffer, utf8: boolean): boolean {
  if (bytes.length > MAX_QUOTED) return true;
  let eightBit = false;
  for (const b of bytes) {
    if (b === 0x0d || b === 0x0a) return true;
    if (b >= 0x80) eightBit = true;
  }
  return eightBit && !(utf8 && validUtf8(bytes));
}

/** ASTRING-CHAR: ATOM-CHAR or "]" (RFC 9051 §9). */
const ASTRING_ATOM = /^[^\x00-\x20\x7f-\uffff(){%*"\\]+$/;

function stringBytes(v: string | Buffer): Buffer {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  // NUL cannot appear in a string, quoted or literal (CHAR8 excludes it); only literal8 carries it
  return bytes.includes(0) ? Buffer.from(bytes.filter((b) => b !== 0)) : bytes;
}

/** A string that is quoted as it is: printable 7-bit, no CR, LF or NUL (its octets are its UTF-16 code units). */
const QUOTABLE_ASCII = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

/**
 * Collects the text and streams of a response into segments. Text is kept as one string until raw octets
 * (a literal) or a stream come, and encoded once: a FETCH of 10,000 ENVELOPEs builds 10,000 Buffers, not
 * one per atom and space.
 */
export class SegmentWriter<S = never> {
  private pendingText = '';
  private pieces: Buffer[] = [];
  private readonly segments: Segment<S>[] = [];

  text(s: string): this {
    this.pendingText += s;
    return this;
  }

  bytes(b: Buffer): this {
    this.flushText();
    this.pieces.push(b);
    return this;
  }

  stream(length: number, binary: boolean, source: S): this {
    this.text(`${binary ? '~' : ''}{${length}}\r\n`);
    this.flush();
    this.segments.push({ kind: 'literal-stream', length, binary, source });
    return this;
  }

  value(v: Value<S>, opts: WriteOptions): this {
    switch (v.t) {
      case 'atom':
        return this.text(v.v);
      case 'number':
        return this.text(String(v.v));
      case 'nil':
        return this.text('NIL');
      case 'astring':
        if (ASTRING_ATOM.test(v.v) && v.v.toUpperCase() !== 'NIL') return this.text(v.v);
        return this.stringValue(v.v, opts);
      case 'string':
        return this.stringValue(v.v, opts);
      case 'literal':
        return this.text(`${v.binary ? '~' : ''}{${v.v.length}}\r\n`).bytes(v.v);
      case 'stream':
        return this.stream(v.length, v.binary, v.source);
      case 'list':
        this.text('(');
        this.values(v.v, opts);
        return this.text(')');
      case 'concat':
        for (const item of v.v) this.value(item, opts);
        return this;
    }
  }

  /** Values separated by SP. */
  values(vs: readonly Value<S>[], opts: WriteOptions): this {
    for (let i = 0; i < vs.length; i++) {
      if (i > 0) this.text(' ');
      this.value(vs[i], opts);
    }
    return this;
  }

  private stringValue(v: string | Buffer, opts: WriteOptions): this {
    // Most strings (addresses, subjects, MIME parameters) are short 7-bit text: quoted without a Buffer.
    if (typeof v === 'string' && v.length <= MAX_QUOTED && QUOTABLE_ASCII.test(v)) return this.quoted(v);
    const bytes = stringBytes(v);
    if (needsLiteral(bytes, opts.utf8)) return this.text(`{${bytes.length}}\r\n`).bytes(bytes);
    // 7-bit, or valid UTF-8 in UTF-8 mode: the decoded text encodes back to the same octets.
    return this.quoted(bytes.toString(opts.utf8 ? 'utf8' : 'latin1'));
  }

  private quoted(s: string): this {
    return this.text(`"${s.replace(/["\\]/g, '\\$&')}"`);
  }

  private flushText(): void {
    if (this.pendingText === '') return;
    this.pieces.push(Buffer.from(this.pendingText, 'utf8'));
    this.pendingText = '';
  }

  private flush(): void {
    this.flushText();
    if (this.pieces.length === 1) this.segments.push(this.pieces[0]);
    else if (this.pieces.length > 1) this.segments.push(Buffer.concat(this.pieces));
    this.pieces = [];
  }

  finish(): Segment<S>[] {
    this.flush();
    return this.segments;
  }
}

/** One untagged or tagged line of values, CRLF-terminated, as one Buffer (no streams). */
export function encodeLine(prefix: string, values: readonly Value[], opts: WriteOptions): Buffer {
  const w = new SegmentWriter<never>().text(prefix);
  if (values.length > 0) w.text(' ').values(values, opts);
  const [buf] = w.text('\r\n').finish();
  return buf as Buffer;
}

/** A mailbox name for responses: UTF-8 in UTF-8 mode, modified UTF-7 otherwise (RFC 3501 §5.1.3). */
export function mailboxValue(name: string, opts: WriteOptions): Value {
  return astr(opts.utf8 ? name : encodeModifiedUtf7(name));
}
