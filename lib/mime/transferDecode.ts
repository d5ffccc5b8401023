/**
 * Content-Transfer-Encoding decoding (RFC 2045 §6) as streams, for IMAP BINARY (RFC 3516): base64 and
 * quoted-printable are decoded chunk by chunk with a few octets carried over, so a part of any size is
 * decoded in bounded memory. 7bit, 8bit and binary are the identity.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Encodings whose content is the octets themselves. */
const IDENTITY = new Set(['7BIT', '8BIT', 'BINARY']);

/** Whether the encoding (as the summary shows it, upper-case) can be decoded here. */
export function knownEncoding(encoding: string): boolean {
  return IDENTITY.has(encoding) || encoding === 'BASE64' || encoding === 'QUOTED-PRINTABLE';
}

/** Whether the encoding leaves the content as it is (7bit, 8bit, binary). */
export const identityEncoding = (encoding: string): boolean => IDENTITY.has(encoding);

/** A decoder for the encoding, or null for the identity. Call only with a knownEncoding. */
export function transferDecoder(encoding: string): Transform | null {
  if (IDENTITY.has(encoding)) return null;
  return encoding === 'BASE64' ? new Base64Decoder() : new QuotedPrintableDecoder();
}

const B64 = new Uint8Array(256).fill(0);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[c.charCodeAt(0)] = 1;
const EQUALS = 0x3d;

/** RFC 2045 §6.8: characters outside the alphabet are ignored; decoding stops at the first pad. */
class Base64Decoder extends Transform {
  private carry = '';
  private done = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.done) {
      cb();
      return;
    }
    const kept = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const b of chunk) {
      if (B64[b]) kept[n++] = b;
      else if (b === EQUALS) {
        this.done = true;
        break;
      }
    }
    const text = this.carry + kept.toString('latin1', 0, n);
    const whole = this.done ? text.length : text.length - (text.length % 4);
    this.carry = text.slice(whole);
    if (whole > 0) this.push(Buffer.from(text.slice(0, whole), 'base64'));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // A trailing group of 2 or 3 characters still carries 1 or 2 octets; a lone one carries none.
    if (this.carry.length >= 2) this.push(Buffer.from(this.carry, 'base64'));
    cb();
  }
}

const HEX = (b: number): number => {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
};
const CR = 0x0d;
const LF = 0x0a;
const isBlank = (b: number) => b === 0x20 || b === 0x09;
/** Trailing blanks are held back to see whether a line break follows (then they go); a longer run is content. */
const MAX_HELD_BLANKS = 1000;

/**
 * RFC 2045 §6.7: `=XX` is an octet, `=` at a line end is a soft line break, blanks before a line break are
 * dropped; anything else (a lone `=`, bad hex) is kept as it is, as lenient decoders do.
 */
class QuotedPrintableDecoder extends Transform {
  private carry: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const input = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const { out, used } = this.decode(input, false);
    this.carry = Buffer.from(input.subarray(used));
    if (out.length > 0) this.push(out);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const { out } = this.decode(this.carry, true);
    if (out.length > 0) this.push(out);
    cb();
  }

  /** Decodes what can be decided now; `used` is where an undecided tail (a split `=XX`, held blanks) begins. */
  private decode(input: Buffer, final: boolean): { out: Buffer; used: number } {
    const out = Buffer.allocUnsafe(input.length);
    let n = 0;
    let i = 0;
    while (i < input.length) {
      const b = input[i];
      if (b === EQUALS) {
        if (!final && i + 2 >= input.length) break;
        const h1 = HEX(input[i + 1] ?? -1);
        const h2 = HEX(input[i + 2] ?? -1);
        if (h1 >= 0 && h2 >= 0) {
          out[n++] = h1 * 16 + h2;
          i += 3;
          continue;
        }
        const soft = softBreak(input, i + 1);
        if (soft > 0) {
          i += 1 + soft;
          continue;
        }
        if (soft < 0 && !final) break;
        out[n++] = b;
        i++;
        continue;
      }
      if (isBlank(b)) {
        let j = i;
        while (j < input.length && isBlank(input[j])) j++;
        const undecided = j === input.length || (input[j] === CR && j + 1 === input.length);
        if (undecided && !final && j - i <= MAX_HELD_BLANKS) break;
        const atBreak = j === input.length || input[j] === LF || (input[j] === CR && input[j + 1] === LF);
        if (!atBreak || j - i > MAX_HELD_BLANKS) {
          input.copy(out, n, i, j);
          n += j - i;
        }
        i = j;
        continue;
      }
      out[n++] = b;
      i++;
    }
    return { out: out.subarray(0, n), used: i };
  }
}

/**
 * After an `=` at `at`: the length of the soft line break (blanks, then CRLF or LF), 0 when there is none,
 * -1 when the input ends before that can be told.
 */
function softBreak(input: Buffer, at: number): number {
  let j = at;
  while (j < input.length && isBlank(input[j])) j++;
  if (j - at > MAX_HELD_BLANKS) return 0;
  if (j >= input.length) return -1;
  if (input[j] === LF) return j - at + 1;
  if (input[j] === CR) {
    if (j + 1 >= input.length) return -1;
    return input[j + 1] === LF ? j - at + 2 : 0;
  }
  return 0;
}
