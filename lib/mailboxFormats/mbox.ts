/**
 * mboxrd (RFC 4155 and the mboxrd convention): each message starts with a `From <sender> <asctime date>`
 * line; a line of the message matching `>*From ` gains one `>` on the way in and loses it on the way out, so
 * every message comes back with its own bytes. Files use LF line ends; messages in the store use CRLF (a
 * message's CRLF line ends become LF and come back as CRLF). Flags travel in Status / X-Status / X-Keywords
 * headers, inserted at the end of the header block (mutt, Dovecot, python's mailbox). The From_ line's date
 * is the INTERNALDATE in UTC. Everything streams: memory stays bounded by the header cap and line pieces.
 */
import { InvalidInputError } from '../core/errors.ts';
import { isBlankLine, type LinePiece, linePieces, toCrlf, toLf } from './lines.ts';
import { type Marks, marksFromStatus, StateHeaderFilter, statusHeaders } from './marks.ts';

/** What goes on an mbox entry besides the message itself. */
export interface MboxEntry {
  readonly internalDate: number;
  readonly marks: Marks;
  /** The envelope sender for the From_ line; when absent, the message's Return-Path, else MAILER-DAEMON. */
  readonly sender?: string;
}

/** Most header bytes held while looking for Return-Path before the From_ line is written. */
const HEADER_HOLD = 256 * 1024;
const QUOTED_FROM = /^>*From /;
const FROM_ESCAPED = /^>+From /;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** C's asctime() of a UTC time: `Wed Dec  2 16:36:24 2026`. */
export function asctime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day} ${time} ${d.getUTCFullYear()}`;
}

/** The date of a From_ line (asctime, optionally with a zone before the year), as UTC; undefined if none. */
export function parseAsctime(text: string): number | undefined {
  const m =
    /(?:[A-Za-z]{3}\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[A-Z]{2,5})\s+)?(\d{4})\s*$/.exec(
      text,
    );
  const month = m ? MONTHS.findIndex((name) => name.toLowerCase() === m[1].toLowerCase()) : -1;
  if (!m || month < 0) return undefined;
  let ms = Date.UTC(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  const zone = m[6] && /^[+-]\d{4}$/.test(m[6]) ? m[6] : undefined;
  if (zone) ms -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3))) * 60_000;
  return Number.isFinite(ms) ? ms : undefined;
}

/** An address for the From_ line: no spaces (it is one word there). */
function fromLineSender(sender: string | undefined): string {
  const word = (sender ?? '').replace(/^<|>$/g, '').trim();
  return word === '' || /\s/.test(word) ? 'MAILER-DAEMON' : word;
}

function returnPath(headerText: string): string | undefined {
  return /^Return-Path:[ \t]*<?([^>\s]*)>?/im.exec(headerText)?.[1];
}

const quoted = (piece: LinePiece, bytes: Buffer) =>
  piece.start && QUOTED_FROM.test(bytes.subarray(0, 256).toString('latin1')) ? Buffer.concat([GT, bytes]) : bytes;
const GT = Buffer.from('>');

/** One message (its octets as stored, CRLF) as an mboxrd entry: From_ line, message, blank line. */
export async function* mboxEntry(entry: MboxEntry, message: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const filter = new StateHeaderFilter();
  const status = Buffer.from(statusHeaders(entry.marks));
  let held: Buffer[] | undefined = [];
  let heldBytes = 0;
  let inHeader = true;
  let endsWithLf = true;
  const release = function* (): Generator<Buffer> {
    if (!held) return;
    const sender = entry.sender ?? returnPath(Buffer.concat(held).toString('latin1'));
    yield Buffer.from(`From ${fromLineSender(sender)} ${asctime(entry.internalDate)}\n`);
    yield* held;
    held = undefined;
  };
  for await (const piece of linePieces(message)) {
    const out = quoted(piece, toLf(piece));
    endsWithLf = piece.end;
    if (inHeader && isBlankLine(piece)) {
      inHeader = false;
      yield* release();
      yield status;
      yield out;
      continue;
    }
    if (inHeader && filter.drops(piece)) continue;
    if (held) {
      held.push(out);
      heldBytes += out.length;
      if (heldBytes > HEADER_HOLD) yield* release();
    } else yield out;
  }
  yield* release();
  if (!endsWithLf) yield LF;
  if (inHeader) yield status; // a message of headers only
  yield LF;
}
const LF = Buffer.from('\n');

/** One message read from an mbox file. Read `body` to its end before asking for `marks` or the next message. */
export interface MboxMessage {
  /** The From_ line's sender word. */
  readonly sender: string;
  /** The From_ line's date (INTERNALDATE), if it has one that parses. */
  readonly internalDate?: number;
  /** The message octets with CRLF line ends, the state headers left out and `>From ` unquoted. */
  readonly body: AsyncIterable<Buffer>;
  /** The flags the state headers gave (after body is read). */
  marks(): Marks;
}

const isFromLine = (piece: LinePiece) => piece.start && piece.bytes.subarray(0, 5).toString('latin1') === 'From ';

/** A piece iterator that can put one piece back. */
class Pieces {
  private back: LinePiece | undefined;
  constructor(private readonly source: AsyncIterator<LinePiece>) {}
  async next(): Promise<LinePiece | undefined> {
    if (this.back) {
      const piece = this.back;
      this.back = undefined;
      return piece;
    }
    const r = await this.source.next();
    return r.done ? undefined : r.value;
  }
  unread(piece: LinePiece): void {
    this.back = piece;
  }
}

/** The message after a From_ line, up to the next From_ line; the blank line before that is the separator. */
async function* messageBody(pieces: Pieces, filter: StateHeaderFilter): AsyncGenerator<Buffer> {
  let inHeader = true;
  let blank: Buffer | undefined; // a blank line held back: the separator, unless more of the message follows
  for (;;) {
    const piece = await pieces.next();
    if (!piece) return;
    if (isFromLine(piece)) return pieces.unread(piece);
    if (blank) {
      yield blank;
      blank = undefined;
    }
    if (inHeader && isBlankLine(piece)) inHeader = false;
    else if (inHeader && filter.drops(piece)) continue;
    let bytes = toCrlf(piece);
    if (piece.start && FROM_ESCAPED.test(bytes.subarray(0, 256).toString('latin1'))) bytes = bytes.subarray(1);
    if (!inHeader && isBlankLine(piece)) blank = bytes;
    else yield bytes;
  }
}

async function skipMessage(pieces: Pieces): Promise<void> {
  for (let piece = await pieces.next(); piece; piece = await pieces.next()) {
    if (isFromLine(piece)) return pieces.unread(piece);
  }
}

/** The messages of an mbox file, one after another (each message's body streams from the file). */
export async function* readMbox(source: AsyncIterable<Buffer | string>): AsyncGenerator<MboxMessage> {
  const pieces = new Pieces(linePieces(source)[Symbol.asyncIterator]());
  let first = await pieces.next();
  while (first && isBlankLine(first)) first = await pieces.next();
  if (!first) return;
  if (!isFromLine(first)) throw new InvalidInputError('not an mbox file: it does not start with a "From " line');
  pieces.unread(first);
  for (;;) {
    const fromLine = await pieces.next();
    if (!fromLine) return;
    const text = toLf(fromLine).toString('utf8').replace(/\n$/, '');
    if (!fromLine.end) throw new InvalidInputError('mbox From_ line too long');
    const sender = text.slice(5).trim().split(/\s+/)[0] ?? '';
    const filter = new StateHeaderFilter();
    const body = messageBody(pieces, filter);
    let done = false;
    yield {
      sender,
      internalDate: parseAsctime(text),
      body: {
        async *[Symbol.asyncIterator]() {
          yield* body;
          done = true;
        },
      },
      marks: () => marksFromStatus(filter.values),
    };
    if (!done) await skipMessage(pieces); // the caller left this message's body (or part of it) unread
  }
}
