/**
 * Line pieces of a byte stream, for the mailbox codecs: each piece is a whole line with its LF, or, for a
 * line longer than the cap, a part of one (`start` tells which piece begins a line). A CR right before an
 * LF is never cut from it, so CRLF and LF line ends can be rewritten piece by piece. Memory stays bounded
 * by the cap whatever the input (a binary part without line breaks included).
 */

export interface LinePiece {
  readonly bytes: Buffer;
  /** This piece begins a line. */
  readonly start: boolean;
  /** This piece ends its line (ends with LF). */
  readonly end: boolean;
}

/** Longest piece: what the codecs look at (the start of a line) always fits. */
export const MAX_PIECE = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export async function* linePieces(source: AsyncIterable<Buffer | string>, max = MAX_PIECE): AsyncGenerator<LinePiece> {
  let carry: Buffer = Buffer.alloc(0);
  let start = true;
  for await (const chunk of source) {
    let buf: Buffer = carry.length > 0 ? Buffer.concat([carry, Buffer.from(chunk)]) : Buffer.from(chunk);
    for (;;) {
      const nl = buf.indexOf(LF);
      if (nl >= 0 && nl < max) {
        yield { bytes: buf.subarray(0, nl + 1), start, end: true };
        start = true;
        buf = buf.subarray(nl + 1);
        continue;
      }
      if (buf.length < max) break;
      // a long line: hand on a piece, keeping a CR that may begin a CRLF with the next
      const cut = buf[max - 1] === CR ? max - 1 : max;
      yield { bytes: buf.subarray(0, cut), start, end: false };
      start = false;
      buf = buf.subarray(cut);
    }
    carry = Buffer.from(buf);
  }
  if (carry.length > 0) yield { bytes: carry, start, end: false };
}

/** The line end of a piece as LF (CRLF becomes LF; a bare CR stays). */
export function toLf(piece: LinePiece): Buffer {
  const b = piece.bytes;
  return piece.end && b.length >= 2 && b[b.length - 2] === CR ? Buffer.concat([b.subarray(0, -2), LF_BYTES]) : b;
}

/** The line end of a piece as CRLF (a bare LF gains its CR). */
export function toCrlf(piece: LinePiece): Buffer {
  const b = piece.bytes;
  if (!piece.end || (b.length >= 2 && b[b.length - 2] === CR)) return b;
  return Buffer.concat([b.subarray(0, -1), CRLF_BYTES]);
}

const LF_BYTES = Buffer.from('\n');
const CRLF_BYTES = Buffer.from('\r\n');

/** True for an empty line (`\n` or `\r\n`): the end of a header block. */
export function isBlankLine(piece: LinePiece): boolean {
  const b = piece.bytes;
  return piece.start && piece.end && (b.length === 1 || (b.length === 2 && b[0] === CR));
}
