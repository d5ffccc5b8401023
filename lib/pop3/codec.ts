/**
 * POP3 wire format, without I/O: command-line parsing, response serialization, and the byte-exact
 * dot-stuffing of multi-line responses (RFC 1939 §3).
 */
import { Transform, type TransformCallback } from 'node:stream';

/** RFC 2449 §4: a command line, CRLF included, is at most 255 octets. */
export const MAX_COMMAND_LINE = 255;
/**
 * Hard cap on what the line reader keeps of one line. AUTH with an initial response and SASL client
 * responses (RFC 5034 §4) may be longer than a command line; everything past this is discarded unread.
 */
export const MAX_LINE_HARD = 8190;

export type ParsedCommand =
  | {
      readonly ok: true;
      /** Upper-cased keyword. */
      readonly keyword: string;
      /** Arguments split on runs of spaces. */
      readonly args: readonly string[];
      /** Everything after the keyword and the single space following it (PASS takes its argument whole). */
      readonly rest: string;
    }
  | { readonly ok: false; readonly error: string };

const KEYWORD = /^[A-Za-z]{3,4}$/;

/**
 * Parses one command line (terminator already removed). Keywords are case-insensitive (RFC 1939 §3); the
 * line must fit in 255 octets with its CRLF (RFC 2449 §4) unless `allowLong` (AUTH, RFC 5034 §4).
 */
export function parseCommand(line: Buffer, opts: { allowLong?: (keyword: string) => boolean } = {}): ParsedCommand {
  const space = line.indexOf(0x20);
  const rawKeyword = (space === -1 ? line : line.subarray(0, space)).toString('latin1');
  if (line.length === 0) return { ok: false, error: 'empty command line' };
  const wellFormed = KEYWORD.test(rawKeyword);
  const keyword = rawKeyword.toUpperCase();
  if (line.length + 2 > MAX_COMMAND_LINE && !(wellFormed && opts.allowLong?.(keyword))) {
    return { ok: false, error: `line too long (at most ${MAX_COMMAND_LINE} octets with CRLF)` };
  }
  if (!wellFormed) return { ok: false, error: 'malformed command' };
  if (line.includes(0x00)) return { ok: false, error: 'NUL in command line' };
  const rest = space === -1 ? '' : line.subarray(space + 1).toString('utf8');
  const args = rest.split(' ').filter((a) => a !== '');
  return { ok: true, keyword, args, rest };
}

/** A response code per RFC 2449 §8 / RFC 3206, e.g. `IN-USE`, `AUTH`, `SYS/TEMP`. */
export type ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'AUTH' | 'SYS/TEMP' | 'SYS/PERM';

/** Response text cannot contain CR or LF (it would start a new line the client would take as a response). */
function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function ok(text = ''): string {
  return text ? `+OK ${clean(text)}\r\n` : '+OK\r\n';
}

export function err(text: string, code?: ResponseCode): string {
  return `-ERR ${code ? `[${code}] ` : ''}${clean(text)}\r\n`;
}

/** A SASL continuation (RFC 5034 §4): `+ ` and the base64 challenge (empty for PLAIN). */
export function continuation(challengeBase64 = ''): string {
  return `+ ${challengeBase64}\r\n`;
}

/**
 * A multi-line response built from short lines (CAPA, LIST, UIDL): the status line, each line
 * dot-stuffed, and the terminating `.`.
 */
export function multiline(status: string, lines: readonly string[]): string {
  let out = ok(status);
  for (const line of lines) out += (line.startsWith('.') ? `.${line}` : line) + '\r\n';
  return `${out}.\r\n`;
}

/** Parses a message number argument: a positive decimal integer (RFC 1939 §3). */
export function parseMessageNumber(arg: string): number | undefined {
  if (!/^[0-9]{1,9}$/.test(arg)) return undefined;
  const n = Number(arg);
  return n >= 1 ? n : undefined;
}

/** Parses a non-negative decimal integer (the line count of TOP). */
export function parseCount(arg: string): number | undefined {
  if (!/^[0-9]{1,9}$/.test(arg)) return undefined;
  return Number(arg);
}

// ---------------------------------------------------------------- dot-stuffing

const DOT = 0x2e;
const LF = 0x0a;
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

/**
 * The state of dot-stuffing one message: every line that starts with `.` gets one more (RFC 1939 §3), the
 * lines being split at LF (a bare LF ends a line for a client too, so it is treated the same). Stateful
 * across chunks, so a line split between chunks is handled; the bytes are otherwise passed through exactly.
 */
export class DotStuffing {
  private atLineStart = true;
  private empty = true;

  /** Stuffs one chunk. Returns the same buffer when nothing had to change (the common case). */
  stuff(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    this.empty = false;
    let pieces: Buffer[] | undefined;
    let from = 0;
    let pos = 0;
    let lineStart = this.atLineStart;
    while (pos < chunk.length) {
      if (lineStart && chunk[pos] === DOT) {
        pieces ??= [];
        pieces.push(chunk.subarray(from, pos), DOT_BUF);
        from = pos;
      }
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        lineStart = false;
        break;
      }
      pos = lf + 1;
      lineStart = true;
    }
    this.atLineStart = lineStart;
    if (!pieces) return chunk;
    pieces.push(chunk.subarray(from));
    return Buffer.concat(pieces);
  }

  /**
   * The end of the response: `.` CRLF, preceded by a CRLF when the message did not end with a line end
   * (so the terminator is on a line of its own). An empty message is just the terminator.
   */
  finish(): Buffer {
    return this.empty || this.atLineStart ? TERMINATOR : CRLF_TERMINATOR;
  }
}

const DOT_BUF = Buffer.from('.');

/** Dot-stuffing as a Transform: message bytes in, the multi-line response body (terminator included) out. */
export class DotStuffer extends Transform {
  private readonly state = new DotStuffing();

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    callback(null, this.state.stuff(chunk));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.state.finish());
  }
}

// ---------------------------------------------------------------- TOP

/**
 * Cuts a message for TOP msg n (RFC 1939 §7): the header, the blank line after it, and the first n lines of
 * the body. Stateful across chunks. `feed` returns the part of the chunk to send; once `done`, the rest of
 * the message is not needed (the caller stops reading it).
 */
export class TopCutter {
  /** Body lines still to send; -1 while still in the header. */
  private bodyLinesLeft = -1;
  /** Whether the header line being read has anything but CR in it (an empty one separates header and body). */
  private lineHasContent = false;
  done = false;

  constructor(private readonly lines: number) {}

  feed(chunk: Buffer): Buffer {
    if (this.done) return EMPTY;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.bodyLinesLeft === 0) {
        this.done = true;
        return chunk.subarray(0, pos);
      }
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf;
      if (this.bodyLinesLeft < 0) {
        // In the header: a line with nothing but an optional CR before its LF is the separator.
        for (let i = pos; i < end; i++) {
          if (chunk[i] !== 0x0d) this.lineHasContent = true;
        }
      }
      if (lf === -1) return chunk;
      if (this.bodyLinesLeft < 0) {
        if (!this.lineHasContent) this.bodyLinesLeft = this.lines;
      } else {
        this.bodyLinesLeft--;
      }
      this.lineHasContent = false;
      pos = lf + 1;
    }
    if (this.bodyLinesLeft === 0) this.done = true;
    return chunk;
  }
}

const EMPTY = Buffer.alloc(0);
