/**
 * The IMAP command reader: an incremental state machine that turns the client's byte stream, received in
 * chunks of any size, into commands (RFC 9051 §2.2.1, §4.3). It reads literals — synchronising `{n}`,
 * non-synchronising `{n+}` (RFC 7888) and literal8 `~{n}` (RFC 3516) — collecting small ones into the
 * argument and streaming large ones (APPEND messages) as chunk events, never buffering them.
 *
 * Pull API: `push(chunk)` appends input, `next()` returns the next event or null when it needs more input
 * (or a decision). Everything is bounded; a bad command yields an `error` event carrying its tag when known,
 * and the reader skips to the end of that command (the next CRLF, minding non-synchronising literals) so
 * the connection survives. Only a non-synchronising literal too large even to discard is fatal.
 */
import { ByteBuilder, ByteQueue } from './byteQueue.ts';
import {
  type CommandEvent,
  DEFAULT_READER_LIMITS,
  type LiteralContext,
  type LiteralEvent,
  type ReaderErrorCode,
  type ReaderErrorEvent,
  type ReaderEvent,
  type ReaderLimits,
  type ReaderOptions,
  streamAppendMessages,
} from './readerEvents.ts';
import type { StreamedToken, Token } from './tokens.ts';

export * from './readerEvents.ts';

type Phase =
  | 'token'
  | 'atom'
  | 'tilde'
  | 'quoted'
  | 'quotedEscape'
  | 'literalSize'
  | 'literalPlus'
  | 'literalClose'
  | 'literalCR'
  | 'cr'
  | 'await'
  | 'inline'
  | 'stream'
  | 'discard'
  | 'skip'
  | 'line'
  | 'dead';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const PLUS = 0x2b;
const TILDE = 0x7e;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const isCtl = (b: number): boolean => b < 0x20 || b === 0x7f;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
/** tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9). */
const TAG = /^[^\x00-\x20\x7f-\uffff(){%*"\\+]+$/;
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** The end of a skipped line that announces a non-synchronising literal, which must be skipped too. */
const NONSYNC_TAIL = /\{(\d+)\+\}\r?$/;
const TAIL_CHARS = /[0-9{}+~\r]/;
const TEXT_PHASES = new Set<Phase>([
  'token',
  'atom',
  'tilde',
  'quoted',
  'quotedEscape',
  'literalSize',
  'literalPlus',
  'literalClose',
  'literalCR',
  'cr',
]);

export class CommandReader {
  private readonly limits: ReaderLimits;
  private readonly streamLiteral: (ctx: LiteralContext) => boolean;
  private readonly queue = new ByteQueue();
  private readonly bytes = new ByteBuilder();
  private readonly pending: ReaderEvent[] = [];
  private phase: Phase = 'token';

  // the command being read
  private stack: Token[][] = [[]];
  private tag: string | undefined;
  private name: string | undefined;
  private lineBytes = 0;
  private tokens = 0;
  private inlineTotal = 0;
  private streamSeq = 0;

  // inside an atom: `[...]` may hold spaces, lists and quoted strings (FETCH BODY[HEADER.FIELDS (A B)])
  private bracketDepth = 0;
  private bracketQuote = false;
  private bracketEscape = false;

  // literal header and body
  private litDigits = '';
  private litBinary = false;
  private litNonSync = false;
  private litRemaining = 0;
  private litBuffer: Buffer = Buffer.alloc(0);
  private litFilled = 0;
  private litSeq = 0;
  private afterAccept: 'inline' | 'stream' = 'inline';

  // resynchronisation
  private skipTail = '';
  private discardRemaining = 0;

  constructor(options: ReaderOptions = {}) {
    this.limits = { ...DEFAULT_READER_LIMITS, ...options.limits };
    this.streamLiteral = options.streamLiteral ?? streamAppendMessages;
  }

  /** Appends received bytes. */
  push(chunk: Buffer): void {
    if (this.phase !== 'dead') this.queue.push(chunk);
  }

  /** Octets received and not yet read (for backpressure: pause the socket above a high-water mark). */
  get buffered(): number {
    return this.queue.length;
  }

  /** Whether a synchronising literal waits for `accept()` or `refuse()`. */
  get awaitingLiteral(): boolean {
    return this.phase === 'await';
  }

  /** Whether the reader is between commands (nothing of a next command read yet). */
  get idle(): boolean {
    return this.phase === 'token' && this.stack.length === 1 && this.stack[0].length === 0 && this.tag === undefined;
  }

  /**
   * Drops everything buffered and not yet read: after STARTTLS, plaintext pipelined behind the command
   * must not be obeyed under TLS (RFC 9051 §6.2.1, the STARTTLS command injection). Returns the count.
   */
  discardBuffered(): number {
    return this.queue.clear();
  }

  /** Reads the next line raw (IDLE's `DONE`, a SASL response): the next event is a `line`. */
  readLine(): void {
    if (!this.idle) throw new Error('readLine() between commands only');
    this.phase = 'line';
    this.bytes.reset();
    this.lineBytes = 0;
  }

  /** The session sent `+ ...`: the client sends the literal now. */
  accept(): void {
    if (this.phase !== 'await') throw new Error('no literal is waiting');
    this.phase = this.afterAccept;
  }

  /** The session refused the literal with a tagged NO or BAD: the command is over. */
  refuse(): void {
    if (this.phase !== 'await') throw new Error('no literal is waiting');
    this.resetCommand();
    this.phase = 'token';
  }

  /** Pushes a chunk and reads every event it completes (stops at a literal that waits for a decision). */
  feed(chunk: Buffer): ReaderEvent[] {
    this.push(chunk);
    const out: ReaderEvent[] = [];
    for (let e = this.next(); e !== null; e = this.next()) out.push(e);
    return out;
  }

  next(): ReaderEvent | null {
    for (;;) {
      const queued = this.pending.shift();
      if (queued) return queued;
      switch (this.phase) {
        case 'dead':
        case 'await':
          return null;
        case 'stream': {
          if (this.litRemaining === 0) {
            this.phase = 'token';
            return { kind: 'literal-end', seq: this.litSeq };
          }
          if (this.queue.length === 0) return null;
          const data = this.queue.take(this.litRemaining);
          this.litRemaining -= data.length;
          return { kind: 'literal-data', seq: this.litSeq, data };
        }
        case 'inline': {
          if (this.litRemaining === 0) {
            this.finishInlineLiteral();
            continue;
          }
          if (this.queue.length === 0) return null;
          const data = this.queue.take(this.litRemaining);
          data.copy(this.litBuffer, this.litFilled);
          this.litFilled += data.length;
          this.litRemaining -= data.length;
          continue;
        }
        case 'discard': {
          if (this.discardRemaining === 0) {
            this.phase = 'skip';
            continue;
          }
          if (this.queue.length === 0) return null;
          this.discardRemaining -= this.queue.take(this.discardRemaining).length;
          continue;
        }
        default: {
          const b = this.queue.shift();
          if (b < 0) return null;
          const event = this.consume(b);
          if (event) return event;
        }
      }
    }
  }

  private consume(b: number): ReaderEvent | null {
    // the line break itself does not count against the line length
    if (b !== CR && b !== LF && TEXT_PHASES.has(this.phase) && ++this.lineBytes > this.limits.maxLineLength) {
      return this.fail('line-too-long', `command line longer than ${this.limits.maxLineLength} octets`, b === LF);
    }
    return this.dispatch(b);
  }

  private dispatch(b: number): ReaderEvent | null {
    switch (this.phase) {
      case 'token':
        return this.onToken(b);
      case 'atom':
        return this.onAtom(b);
      case 'tilde':
        return this.onTilde(b);
      case 'quoted':
        return this.onQuoted(b);
      case 'quotedEscape':
        if (b !== DQUOTE && b !== BACKSLASH) return this.fail('syntax', 'only \\" and \\\\ may be escaped', b === LF);
        this.bytes.push(b);
        this.phase = 'quoted';
        return null;
      case 'literalSize':
      case 'literalPlus':
      case 'literalClose':
      case 'literalCR':
        return this.onLiteralHeader(b);
      case 'cr':
        if (b === LF) return this.endOfLine();
        return this.fail('syntax', 'CR not followed by LF', false);
      case 'skip':
        return this.onSkip(b);
      case 'line':
        return this.onRawLine(b);
      default:
        return null;
    }
  }

  private onToken(b: number): ReaderEvent | null {
    switch (b) {
      case SP:
        return null;
      case CR:
        this.phase = 'cr';
        return null;
      case LF:
        return this.endOfLine();
      case LPAREN:
        return this.openList();
      case RPAREN:
        return this.closeList();
      case DQUOTE:
        this.bytes.reset();
        this.phase = 'quoted';
        return null;
      case LBRACE:
        this.startLiteralHeader(false);
        return null;
      case TILDE:
        this.phase = 'tilde';
        return null;
      default:
        if (isCtl(b)) return this.fail('syntax', 'control character in command', false);
        this.startAtom();
        return this.onAtom(b);
    }
  }

  private startAtom(): void {
    this.bytes.reset();
    this.bracketDepth = 0;
    this.bracketQuote = false;
    this.bracketEscape = false;
    this.phase = 'atom';
  }

  private onTilde(b: number): ReaderEvent | null {
    if (b === LBRACE) {
      this.startLiteralHeader(true);
      return null;
    }
    this.startAtom();
    this.bytes.push(TILDE);
    return this.onAtom(b);
  }

  private onAtom(b: number): ReaderEvent | null {
    if (b === CR || b === LF) return this.endAtomAt(b);
    if (this.bracketDepth > 0) return this.onBracketed(b);
    if (b === SP || b === LPAREN || b === RPAREN || b === DQUOTE) return this.endAtomAt(b);
    if (isCtl(b)) return this.fail('syntax', 'control character in atom', false);
    if (b === LBRACKET) this.bracketDepth = 1;
    this.bytes.push(b);
    return null;
  }

  /** Inside `[...]` of an atom: spaces, parentheses and quoted strings are part of it. */
  private onBracketed(b: number): ReaderEvent | null {
    if (isCtl(b)) return this.fail('syntax', 'control character in atom', false);
    if (this.bracketQuote) {
      if (this.bracketEscape) this.bracketEscape = false;
      else if (b === BACKSLASH) this.bracketEscape = true;
      else if (b === DQUOTE) this.bracketQuote = false;
    } else if (b === DQUOTE) this.bracketQuote = true;
    else if (b === LBRACKET) this.bracketDepth++;
    else if (b === RBRACKET) this.bracketDepth--;
    this.bytes.push(b);
    return null;
  }

  /** Completes the atom and handles the delimiter that ended it. */
  private endAtomAt(delimiter: number): ReaderEvent | null {
    const bytes = this.bytes.take();
    let value: string;
    try {
      value = UTF8.decode(bytes);
    } catch {
      // atoms are US-ASCII (RFC 9051 §9); UTF-8 is tolerated, anything else would turn into U+FFFD names
      const error = this.fail('syntax', '8-bit octets in an atom that are not UTF-8', false);
      const after = this.dispatch(delimiter);
      if (after) this.pending.push(after);
      return error;
    }
    const error = this.addToken({ type: 'atom', value });
    if (error === null) this.phase = 'token';
    const after = this.dispatch(delimiter);
    if (error && after) this.pending.push(after);
    return error ?? after;
  }

  private onQuoted(b: number): ReaderEvent | null {
    if (b === BACKSLASH) {
      this.phase = 'quotedEscape';
      return null;
    }
    if (b === DQUOTE) {
      const error = this.addToken({ type: 'string', value: this.bytes.take(), form: 'quoted' });
      if (error === null) this.phase = 'token';
      return error;
    }
    if (b === CR || b === LF) return this.fail('syntax', 'unterminated quoted string', b === LF);
    if (b === 0) return this.fail('syntax', 'NUL in quoted string', false);
    this.bytes.push(b);
    return null;
  }

  private startLiteralHeader(binary: boolean): void {
    this.litDigits = '';
    this.litBinary = binary;
    this.litNonSync = false;
    this.phase = 'literalSize';
  }

  private onLiteralHeader(b: number): ReaderEvent | null {
    switch (this.phase) {
      case 'literalSize':
        if (isDigit(b) && this.litDigits.length < 20) {
          this.litDigits += String.fromCharCode(b);
          return null;
        }
        if ((b === PLUS || b === RBRACE) && this.litDigits !== '') {
          this.litNonSync = b === PLUS;
          this.phase = b === PLUS ? 'literalPlus' : 'literalClose';
          return null;
        }
        return this.fail('syntax', 'malformed literal size', b === LF);
      case 'literalPlus':
        if (b === RBRACE) {
          this.phase = 'literalClose';
          return null;
        }
        return this.fail('syntax', 'malformed literal size', b === LF);
      case 'literalClose':
        if (b === CR) {
          this.phase = 'literalCR';
          return null;
        }
        if (b === LF) return this.literalHeaderDone();
        return this.fail('syntax', 'a literal size must end the line', false);
      default:
        if (b === LF) return this.literalHeaderDone();
        return this.fail('syntax', 'CR not followed by LF', false);
    }
  }

  private literalHeaderDone(): ReaderEvent | null {
    const size = Number(this.litDigits);
    const limits = this.limits;
    this.lineBytes = 0;
    const top = this.stack[0];
    if (this.stack.length === 1 && top.length < 2) {
      return this.rejectLiteral(
        top.length === 0 ? 'bad-tag' : 'syntax',
        'the tag and command name must be atoms',
        size,
      );
    }
    const ctx: LiteralContext = { command: this.name ?? '', argIndex: top.length - 2, depth: this.stack.length - 1 };
    const streamed = this.streamLiteral(ctx);
    if (this.litNonSync && size > limits.maxNonSyncLiteral) {
      return this.rejectLiteral(
        'literal-too-large',
        `non-synchronizing literals are limited to ${limits.maxNonSyncLiteral} octets`,
        size,
        limits.maxNonSyncLiteral,
      );
    }
    const limit = streamed
      ? limits.maxAppendLiteral
      : Math.min(limits.maxInlineLiteral, limits.maxInlineTotal - this.inlineTotal);
    if (size > limit)
      return this.rejectLiteral('literal-too-large', `literal larger than ${limit} octets`, size, limit);
    if (++this.tokens > limits.maxTokens) return this.rejectLiteral('too-many-args', 'too many arguments', size);
    const event: LiteralEvent = {
      kind: 'literal',
      tag: this.tag ?? '',
      name: this.name ?? '',
      args: top.slice(2),
      depth: ctx.depth,
      size,
      binary: this.litBinary,
      synchronizing: !this.litNonSync,
      streamed,
      seq: streamed ? this.streamSeq : -1,
    };
    this.litRemaining = size;
    if (streamed) {
      this.litSeq = this.streamSeq++;
      const token: StreamedToken = { type: 'streamed', seq: this.litSeq, size, binary: this.litBinary };
      this.stack[this.stack.length - 1].push(token);
    } else {
      this.inlineTotal += size;
      this.litBuffer = Buffer.allocUnsafe(size);
      this.litFilled = 0;
    }
    const body = streamed ? 'stream' : 'inline';
    if (event.synchronizing) {
      this.afterAccept = body;
      this.phase = 'await';
      return event;
    }
    this.phase = body;
    return streamed ? event : null;
  }

  /**
   * Refuses a literal after its header. A synchronising one is never sent, so the next byte starts a new
   * command; a non-synchronising one is on its way and is read and dropped (RFC 7888 §4), unless it is too
   * large even for that.
   */
  private rejectLiteral(code: ReaderErrorCode, message: string, size: number, limit?: number): ReaderErrorEvent {
    const event = { ...this.errorEvent(code, message), size, ...(limit === undefined ? {} : { limit }) };
    this.resetCommand();
    if (!this.litNonSync) {
      this.phase = 'token';
      return event;
    }
    if (size > this.limits.maxDiscard) return this.die(event);
    this.discardRemaining = size;
    this.phase = 'discard';
    return event;
  }

  private finishInlineLiteral(): void {
    const form = this.litBinary ? 'literal8' : 'literal';
    this.stack[this.stack.length - 1].push({ type: 'string', value: this.litBuffer, form });
    this.litBuffer = Buffer.alloc(0);
    this.phase = 'token';
  }

  private openList(): ReaderEvent | null {
    if (this.stack.length === 1 && this.stack[0].length < 2) {
      return this.fail(
        this.stack[0].length === 0 ? 'bad-tag' : 'syntax',
        'the tag and command name must be atoms',
        false,
      );
    }
    if (this.stack.length > this.limits.maxDepth) {
      return this.fail('too-deep', `lists nested deeper than ${this.limits.maxDepth}`, false);
    }
    if (++this.tokens > this.limits.maxTokens) return this.fail('too-many-args', 'too many arguments', false);
    this.stack.push([]);
    return null;
  }

  private closeList(): ReaderEvent | null {
    if (this.stack.length === 1) return this.fail('syntax', 'unexpected ")"', false);
    const items = this.stack.pop() ?? [];
    this.stack[this.stack.length - 1].push({ type: 'list', items });
    return null;
  }

  /** Adds a completed atom or quoted string; the first two top-level tokens are the tag and the name. */
  private addToken(token: Token): ReaderErrorEvent | null {
    if (++this.tokens > this.limits.maxTokens) return this.fail('too-many-args', 'too many arguments', false);
    const list = this.stack[this.stack.length - 1];
    if (this.stack.length === 1 && list.length === 0) {
      if (token.type !== 'atom' || !TAG.test(token.value)) return this.fail('bad-tag', 'missing or invalid tag', false);
      this.tag = token.value;
    } else if (this.stack.length === 1 && list.length === 1) {
      if (token.type !== 'atom' || !COMMAND_NAME.test(token.value)) {
        return this.fail('syntax', 'missing or invalid command name', false);
      }
      this.name = token.value.toUpperCase();
    }
    list.push(token);
    return null;
  }

  private endOfLine(): ReaderEvent | null {
    if (this.stack.length > 1) return this.fail('syntax', 'unclosed "("', true);
    const top = this.stack[0];
    if (top.length === 0) {
      this.resetCommand();
      this.phase = 'token';
      return null; // an empty line is not a command; ignore it
    }
    if (top.length === 1) return this.fail('syntax', 'missing command name', true);
    const event: CommandEvent = { kind: 'command', tag: this.tag ?? '', name: this.name ?? '', args: top.slice(2) };
    this.resetCommand();
    this.phase = 'token';
    return event;
  }

  /** Skipping the rest of a bad command, up to its line end and through any non-synchronising literal. */
  private onSkip(b: number): ReaderEvent | null {
    if (b !== LF) {
      this.skipTail = TAIL_CHARS.test(String.fromCharCode(b))
        ? (this.skipTail + String.fromCharCode(b)).slice(-40)
        : '';
      return null;
    }
    const m = NONSYNC_TAIL.exec(this.skipTail);
    this.skipTail = '';
    if (!m) {
      this.resetCommand();
      this.phase = 'token';
      return null;
    }
    const size = m[1].length > 15 ? Number.POSITIVE_INFINITY : Number(m[1]);
    if (size > this.limits.maxDiscard) {
      return this.die(this.errorEvent('literal-too-large', 'non-synchronizing literal too large to skip'));
    }
    this.discardRemaining = size;
    this.phase = 'discard';
    return null;
  }

  private onRawLine(b: number): ReaderEvent | null {
    if (b === LF) {
      let line = this.bytes.take();
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      this.phase = 'token';
      return { kind: 'line', line };
    }
    if (b !== CR && ++this.lineBytes > this.limits.maxLineLength) {
      this.bytes.reset();
      this.phase = 'skip';
      return this.errorEvent('line-too-long', `line longer than ${this.limits.maxLineLength} octets`);
    }
    this.bytes.push(b);
    return null;
  }

  /**
   * Reports a bad command and forgets it. `atLineEnd`: the byte that showed the error ended the line, so the
   * next byte starts a new command; otherwise the rest of the line is skipped first.
   */
  private fail(code: ReaderErrorCode, message: string, atLineEnd: boolean): ReaderErrorEvent {
    const event = this.errorEvent(code, message);
    this.resetCommand();
    this.phase = atLineEnd ? 'token' : 'skip';
    this.skipTail = '';
    return event;
  }

  private errorEvent(code: ReaderErrorCode, message: string): ReaderErrorEvent {
    return {
      kind: 'error',
      code,
      message,
      ...(this.tag === undefined ? {} : { tag: this.tag }),
      ...(this.name === undefined ? {} : { name: this.name }),
      fatal: false,
    };
  }

  private die(event: ReaderErrorEvent): ReaderErrorEvent {
    this.phase = 'dead';
    this.queue.clear();
    return { ...event, fatal: true };
  }

  private resetCommand(): void {
    this.stack = [[]];
    this.tag = undefined;
    this.name = undefined;
    this.lineBytes = 0;
    this.tokens = 0;
    this.inlineTotal = 0;
    this.streamSeq = 0;
    this.bytes.reset();
  }
}
