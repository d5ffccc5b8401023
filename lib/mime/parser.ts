/**
 * A streaming MIME tree parser (RFC 2045/2046): feed it the message in chunks of any size and it records,
 * for every part, where its header and body start and end (octet offsets into the input), its parsed header
 * fields and the number of lines of its body. Bodies are never held: only the current part's header block
 * (bounded) and the first bytes of the current line (enough to recognise a boundary) are kept, so a 50 MB
 * message costs a few kilobytes.
 *
 * Bounded: nesting depth (multipart and message/rfc822 inside each other), number of parts, header bytes per
 * part. Past a bound, the rest is treated as an opaque leaf body, never an error: indexing must not refuse
 * mail that delivery accepted.
 */
import { type HeaderField, headerValue, parseHeaderBlock, parseParameterized } from './headers.ts';

export interface MimeLimits {
  readonly maxDepth: number;
  readonly maxParts: number;
  readonly maxHeaderBytes: number;
}

export const DEFAULT_MIME_LIMITS: MimeLimits = { maxDepth: 32, maxParts: 500, maxHeaderBytes: 256 * 1024 };

export interface PartNode {
  /** Offset of the part's first header byte. */
  readonly headerStart: number;
  /** Offset of the first body byte (after the empty line that ends the header). */
  bodyStart: number;
  /** Offset just past the body (before the CRLF that belongs to the next boundary). */
  bodyEnd: number;
  /** Lines of the body. */
  lines: number;
  headers: HeaderField[];
  /** Lower-case media type and subtype (text/plain when absent or unparsable, RFC 2045 §5.2). */
  type: string;
  subtype: string;
  params: Record<string, string>;
  /** Children of a multipart. */
  readonly children: PartNode[];
  /** The encapsulated message of a message/rfc822 part. */
  message?: PartNode;
  readonly depth: number;
  /** Whether the header block went past maxHeaderBytes (later fields were not recorded). */
  headerTruncated: boolean;
  /** Internal: line count at the start of the body. */
  bodyLineStart: number;
}

interface Boundary {
  readonly marker: Buffer; // "--" + boundary
  readonly owner: PartNode; // the multipart
}

const LF = 0x0a;
const CR = 0x0d;
/** Bytes of each line kept to compare with boundaries (RFC 2046 limits a boundary to 70 characters). */
const LINE_HEAD = 256;

function newPart(headerStart: number, depth: number, parentType?: string): PartNode {
  const digestDefault = parentType === 'multipart/digest';
  return {
    headerStart,
    bodyStart: headerStart,
    bodyEnd: headerStart,
    lines: 0,
    headers: [],
    type: digestDefault ? 'message' : 'text',
    subtype: digestDefault ? 'rfc822' : 'plain',
    params: digestDefault ? {} : { charset: 'us-ascii' },
    children: [],
    depth,
    headerTruncated: false,
    bodyLineStart: 0,
  };
}

export class MimeParser {
  readonly root: PartNode;
  private offset = 0;
  /** Lines (LFs) seen so far. */
  private lineNo = 0;
  private lineStart = 0;
  private lineLength = 0;
  private readonly head = Buffer.alloc(LINE_HEAD);
  private headLength = 0;
  /** Whether the LF that ended the line was preceded by CR. */
  private termCR = false;
  /** The previous line: whether it was empty (just its terminator), and its terminator's length. */
  private prevLineEmpty = false;
  private prevTermLength = 0;

  /** The part whose header is being read, if any. */
  private inHeader: PartNode | undefined;
  private headerChunks: Buffer[] = [];
  private headerBytes = 0;
  private readonly boundaries: Boundary[] = [];
  private readonly closed = new WeakSet<PartNode>();
  private parts = 1;
  private lastByte = -1;
  private ended = false;

  constructor(private readonly limits: MimeLimits = DEFAULT_MIME_LIMITS) {
    this.root = newPart(0, 0);
    this.inHeader = this.root;
  }

  write(chunk: Buffer): void {
    if (this.ended) throw new Error('MimeParser: write after end');
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      const stop = nl === -1 ? chunk.length : nl + 1;
      const piece = chunk.subarray(pos, stop);
      if (this.headLength < LINE_HEAD) {
        const n = Math.min(LINE_HEAD - this.headLength, piece.length);
        piece.copy(this.head, this.headLength, 0, n);
        this.headLength += n;
      }
      if (this.inHeader) this.keepHeaderBytes(piece);
      this.lineLength += piece.length;
      this.offset += piece.length;
      if (nl !== -1) {
        this.termCR = nl > 0 ? chunk[nl - 1] === CR : this.lastByte === CR;
        this.lastByte = LF;
        this.endOfLine(true);
      } else this.lastByte = chunk[chunk.length - 1];
      pos = stop;
    }
  }

  /** Ends the input; closes every open part at the end. Returns the root. */
  end(): PartNode {
    if (this.ended) return this.root;
    if (this.lineLength > 0) this.endOfLine(false);
    this.ended = true;
    if (this.inHeader) this.finishHeader(this.offset);
    const endLines = this.lineNo + (this.lastByte !== -1 && this.lastByte !== LF ? 1 : 0);
    const closeAtEnd = (part: PartNode) => {
      if (part.message) closeAtEnd(part.message);
      for (const child of part.children) closeAtEnd(child);
      if (this.closed.has(part)) return;
      this.closed.add(part);
      part.bodyEnd = this.offset;
      part.lines = part.bodyEnd > part.bodyStart ? Math.max(0, endLines - part.bodyLineStart) : 0;
    };
    closeAtEnd(this.root);
    return this.root;
  }

  private keepHeaderBytes(piece: Buffer): void {
    if (this.headerBytes + piece.length > this.limits.maxHeaderBytes) {
      this.inHeader!.headerTruncated = true;
      return;
    }
    this.headerChunks.push(Buffer.from(piece));
    this.headerBytes += piece.length;
  }

  private endOfLine(terminated: boolean): void {
    const lineStart = this.lineStart;
    const length = this.lineLength;
    const head = this.head.subarray(0, Math.min(this.headLength, length));
    const termLength = terminated ? (this.termCR && length >= 2 ? 2 : 1) : 0;
    const empty = terminated && length === termLength;
    if (terminated) this.lineNo += 1;
    this.lineStart = this.offset;
    this.lineLength = 0;
    this.headLength = 0;

    const boundary = this.matchBoundary(head, length, termLength);
    if (this.inHeader) {
      if (boundary) {
        this.finishHeader(lineStart, true);
        this.onBoundary(boundary, lineStart, this.offset);
      } else if (empty) this.finishHeader(this.offset);
    } else if (boundary) this.onBoundary(boundary, lineStart, this.offset);
    this.prevLineEmpty = empty;
    this.prevTermLength = termLength;
  }

  private matchBoundary(
    head: Buffer,
    length: number,
    termLength: number,
  ): { b: Boundary; index: number; close: boolean } | undefined {
    if (this.boundaries.length === 0 || length > LINE_HEAD || head.length < 3 || head[0] !== 0x2d || head[1] !== 0x2d) {
      return undefined;
    }
    const content = head.subarray(0, length - termLength);
    for (let i = this.boundaries.length - 1; i >= 0; i--) {
      const b = this.boundaries[i];
      if (content.length < b.marker.length || !content.subarray(0, b.marker.length).equals(b.marker)) continue;
      let rest = content.subarray(b.marker.length).toString('latin1');
      let close = false;
      if (rest.startsWith('--')) {
        close = true;
        rest = rest.slice(2);
      }
      if (/^[ \t]*$/.test(rest)) return { b, index: i, close };
    }
    return undefined;
  }

  /** The header of `inHeader` ends; its body starts at `bodyStart`. */
  private finishHeader(bodyStart: number, cutByBoundary = false): void {
    const part = this.inHeader!;
    this.inHeader = undefined;
    const block = Buffer.concat(this.headerChunks);
    this.headerChunks = [];
    this.headerBytes = 0;
    part.headers = parseHeaderBlock(block);
    part.bodyStart = bodyStart;
    part.bodyEnd = bodyStart;
    part.bodyLineStart = cutByBoundary ? this.lineNo - 1 : this.lineNo;
    const ct = headerValue(part.headers, 'content-type');
    if (ct) {
      const parsed = parseParameterized(ct);
      const m = /^([a-z0-9!#$&^_.+-]+)\/([a-z0-9!#$&^_.+-]+)$/.exec(parsed.value);
      if (m) {
        part.type = m[1];
        part.subtype = m[2];
        part.params = parsed.params;
      }
    }
    const encoding = (headerValue(part.headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    const canNest = !cutByBoundary && part.depth < this.limits.maxDepth && this.parts < this.limits.maxParts;
    if (part.type === 'multipart' && part.params.boundary && canNest) {
      this.boundaries.push({ marker: Buffer.from(`--${part.params.boundary}`, 'utf8'), owner: part });
    } else if (
      part.type === 'message' &&
      (part.subtype === 'rfc822' || part.subtype === 'global') &&
      !['base64', 'quoted-printable'].includes(encoding) &&
      canNest
    ) {
      const inner = newPart(bodyStart, part.depth + 1);
      part.message = inner;
      this.parts += 1;
      this.inHeader = inner;
    } else if (part.type === 'multipart') {
      // a multipart without a usable boundary (or past the limits) is an opaque body
      part.type = 'application';
      part.subtype = 'octet-stream';
      part.params = {};
    }
  }

  /** A boundary line of `match.b.owner` spans [lineStart, lineEnd). */
  private onBoundary(match: { b: Boundary; index: number; close: boolean }, lineStart: number, lineEnd: number): void {
    const owner = match.b.owner;
    // The CRLF before the boundary belongs to the delimiter (RFC 2046 §5.1.1).
    const bodyEnd = lineStart - this.prevTermLength;
    const linesBefore = this.lineNo - 1; // lines before the boundary line
    const close = (part: PartNode) => {
      if (part.message) close(part.message);
      for (const child of part.children) close(child);
      if (this.closed.has(part)) return;
      this.closed.add(part);
      part.bodyEnd = Math.max(part.bodyStart, bodyEnd);
      part.lines =
        part.bodyEnd === part.bodyStart
          ? 0
          : Math.max(0, linesBefore - part.bodyLineStart - 1 + (this.prevLineEmpty ? 0 : 1));
    };
    // the owner's current child ends here, with everything open inside it
    const child = owner.children.at(-1);
    if (child) close(child);
    this.boundaries.length = match.index + 1;
    if (match.close || this.parts >= this.limits.maxParts) {
      // after the close delimiter (or past the part limit) the rest is the owner's epilogue
      this.boundaries.pop();
      return;
    }
    const next = newPart(lineEnd, owner.depth + 1, `${owner.type}/${owner.subtype}`);
    next.bodyLineStart = this.lineNo;
    owner.children.push(next);
    this.parts += 1;
    this.inHeader = next;
    this.headerChunks = [];
    this.headerBytes = 0;
  }
}

/** Parses a whole buffer (tests, small messages). */
export function parseMime(message: Buffer, limits?: MimeLimits): PartNode {
  const p = new MimeParser(limits);
  p.write(message);
  return p.end();
}
