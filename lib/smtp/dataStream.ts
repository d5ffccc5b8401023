/**
 * What happens to the message text between the socket and S3.
 *
 * smtp-server has already removed the transparency dots (RFC 5321 §4.5.2: a line that starts with ".." loses
 * its first dot) and ends the text only at <CRLF>.<CRLF>. Every other sequence ("\n.\n", "\n.\r\n",
 * "\r.\r\n", "\r\n.\r", "\r\n\0.\r\n" ...) is message text to it, so a client can never end the message
 * early. This module adds the policy on top, one chunk at a time, holding nothing but the current header
 * field when it must:
 *
 * - SMTP smuggling policy: REJECT. A bare LF, a bare CR or a NUL anywhere in the text refuses the whole
 *   message (550 5.6.0) once it has been received; nothing of it is stored. RFC 5321 §2.3.8 forbids clients
 *   to send bare CR or LF, RFC 6152 forbids NUL, and these are exactly the bytes another server could read
 *   as an end of data, so a message that contains them is refused rather than normalised: what we store is
 *   always what a strict reader sees, and no sequence in it can be reinterpreted by a later hop.
 * - Size: the text may be at most maxSize octets (the advertised SIZE); past it, 552 5.3.4.
 * - Lines: at most maxLineLength octets with their CRLF; past it, 500 5.5.2.
 * - Loops: more than maxReceived Received header fields in the message header, 554 5.4.6 (RFC 5321 §6.3).
 * - Authentication-Results fields that claim our own authserv-id are removed from the header (RFC 8601 §5),
 *   so a sender cannot forge the verdict that our filter adds in front of the message; so are the sender's
 *   X-Spam-* fields (ours go in front; a sender's "X-Spam-Flag: NO" must not reach the user's filters).
 *   Whatever their length: a field is judged by its start and the rest of it streams on or is dropped. An
 *   Authentication-Results field is held only until its authserv-id is read (RFC 8601 §2.2, after comments
 *   and folding); one whose id is still unread after MAX_HELD_FIELD octets, or that ends inside a comment, is
 *   removed too (§5 allows removing any), so the policy holds at most that plus the current incomplete line.
 *
 * The SHA-256 of the text as the client sent it (after unstuffing, before any removal) is the basis of the
 * delivery's idempotency key.
 */
import { createHash, type Hash } from 'node:crypto';
import { AuthservIdScanner, isOrMightBe } from './authservId.ts';

export type DataViolation = 'size' | 'loop' | 'bareLineEnding' | 'nul' | 'lineTooLong';

export interface DataPolicyOptions {
  readonly maxSize: number;
  readonly maxLineLength: number;
  readonly maxReceived: number;
  /** Our authserv-id (the gateway host name): Authentication-Results claiming it are dropped. */
  readonly authservId: string;
  /** Bytes hashed before the text (the envelope sender), so equal texts from different senders differ. */
  readonly hashSeed?: string;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
/** An Authentication-Results field whose authserv-id is still unread after this many octets is removed. */
export const MAX_HELD_FIELD = 64 * 1024;

/** What becomes of the rest of the header field being read. */
type FieldFate = 'pass' | 'drop' | 'hold';

export class DataPolicy {
  /** Octets of client text seen so far. */
  size = 0;
  /** Received fields counted in the message header. */
  received = 0;
  /** The first rule the text broke; once set, nothing more is passed on. */
  violation: DataViolation | undefined;
  /** Octets passed on (the stored text may be shorter than `size` when a forged header was removed). */
  passed = 0;
  /** Header fields removed (forged Authentication-Results, the sender's X-Spam-*). */
  removed = 0;

  private readonly hash: Hash;
  private lineLength = 0;
  private lastWasCR = false;
  private inHeader = true;
  /** The incomplete header line carried from the previous chunk. */
  private partial: Buffer | undefined;
  private fate: FieldFate = 'pass';
  /** The start of the Authentication-Results field being read, held until its authserv-id is known. */
  private held: Buffer[] = [];
  private heldLength = 0;
  private scanner: AuthservIdScanner | undefined;
  private digestValue: string | undefined;

  constructor(private readonly opts: DataPolicyOptions) {
    this.hash = createHash('sha256');
    if (opts.hashSeed !== undefined) this.hash.update(`${opts.hashSeed}\0`);
  }

  /** Inspects a chunk of message text; returns the bytes to store (none once the text broke a rule). */
  push(chunk: Buffer): Buffer[] {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.violation) return [];
    if (this.size > this.opts.maxSize) return this.fail('size');
    const broken = this.checkBytes(chunk);
    if (broken) return this.fail(broken);
    const out = this.inHeader ? this.header(chunk) : [chunk];
    if (this.violation) return [];
    for (const b of out) this.passed += b.length;
    return out;
  }

  /** Call at the end of the text: final checks, and whatever header bytes were still held. */
  end(): Buffer[] {
    if (this.violation) return [];
    if (this.lastWasCR) return this.fail('bareLineEnding');
    const out: Buffer[] = [];
    if (this.partial) {
      out.push(...this.headerLine(this.partial));
      this.partial = undefined;
    }
    out.push(...this.endField());
    if (this.violation) return [];
    for (const b of out) this.passed += b.length;
    return out;
  }

  /** Octets held in memory now: the incomplete header line and the start of a field being judged. */
  get heldBytes(): number {
    return (this.partial?.length ?? 0) + this.heldLength;
  }

  /** Hex SHA-256 of the seed and the client's text; available after end(). */
  digest(): string {
    this.digestValue ??= this.hash.digest('hex');
    return this.digestValue;
  }

  private fail(v: DataViolation): Buffer[] {
    this.violation = v;
    this.partial = undefined;
    this.forget();
    return [];
  }

  /** Bare CR, bare LF, NUL and line length, with native scans (indexOf) rather than a loop per byte. */
  private checkBytes(chunk: Buffer): DataViolation | undefined {
    if (chunk.indexOf(0) !== -1) return 'nul';
    const max = this.opts.maxLineLength;
    // a CR at the end of the previous chunk must be followed by the LF that starts this one
    if (this.lastWasCR && chunk[0] !== LF) return 'bareLineEnding';
    for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
      if (i + 1 < chunk.length && chunk[i + 1] !== LF) return 'bareLineEnding';
    }
    let start = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const prevIsCR = i > 0 ? chunk[i - 1] === CR : this.lastWasCR;
      if (!prevIsCR) return 'bareLineEnding';
      if (this.lineLength + (i + 1 - start) > max) return 'lineTooLong';
      this.lineLength = 0;
      start = i + 1;
    }
    this.lineLength += chunk.length - start;
    if (this.lineLength > max) return 'lineTooLong';
    this.lastWasCR = chunk[chunk.length - 1] === CR;
    return undefined;
  }

  /** Splits the header section into lines (the text has no bare CR/LF here, so LF ends every line). */
  private header(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let start = 0;
    while (this.inHeader) {
      const nl = data.indexOf(LF, start);
      if (nl === -1) break;
      out.push(...this.headerLine(data.subarray(start, nl + 1)));
      start = nl + 1;
    }
    if (start < data.length) {
      if (this.inHeader) this.partial = Buffer.from(data.subarray(start));
      else out.push(data.subarray(start));
    }
    return out;
  }

  /** One complete header line (with its CRLF), or the last incomplete one at the end of the text. */
  private headerLine(line: Buffer): Buffer[] {
    if (line.length === 2 && line[0] === CR && line[1] === LF) {
      this.inHeader = false;
      return [...this.endField(), line];
    }
    if (line[0] === SP || line[0] === HT) return this.continuation(line);
    const out = this.endField();
    const colon = line.indexOf(0x3a);
    const name = colon > 0 ? line.toString('latin1', 0, colon).trim().toLowerCase() : '';
    if (name === 'received') {
      this.received += 1;
      if (this.received > this.opts.maxReceived) {
        this.fail('loop');
        return [];
      }
    }
    if (name.startsWith('x-spam-')) {
      this.dropField();
    } else if (name === 'authentication-results') {
      this.fate = 'hold';
      this.scanner = new AuthservIdScanner();
      out.push(...this.hold(line, line.subarray(colon + 1)));
    } else {
      this.fate = 'pass';
      out.push(line);
    }
    return out;
  }

  private continuation(line: Buffer): Buffer[] {
    if (this.fate === 'pass') return [line];
    if (this.fate === 'drop') return [];
    return this.hold(line, line);
  }

  /** Reads `value` (part of `line`) for the authserv-id; holds the line while the id is unknown. */
  private hold(line: Buffer, value: Buffer): Buffer[] {
    if (this.scanner?.feed(value)) return this.judge(line);
    if (this.heldLength + line.length > MAX_HELD_FIELD) {
      this.dropField();
      return [];
    }
    this.held.push(Buffer.from(line)); // a copy: a slice would keep the whole chunk alive
    this.heldLength += line.length;
    return [];
  }

  /** The authserv-id is known (or the field ended): drop the field if it (might) claim ours, else pass it. */
  private judge(line?: Buffer): Buffer[] {
    if (isOrMightBe(this.scanner?.finish(), this.opts.authservId)) {
      this.dropField();
      return [];
    }
    const out = line ? [...this.held, line] : this.held;
    this.fate = 'pass';
    this.forget();
    return out;
  }

  /** The current field has ended. */
  private endField(): Buffer[] {
    return this.fate === 'hold' ? this.judge() : [];
  }

  private dropField(): void {
    this.fate = 'drop';
    this.removed += 1;
    this.forget();
  }

  private forget(): void {
    this.held = [];
    this.heldLength = 0;
    this.scanner = undefined;
  }
}
