/** The reader's limits, options and events (see reader.ts). */
import type { Token } from './tokens.ts';

export interface ReaderLimits {
  /** Octets of one line of a command (between line breaks and literals), CRLF excluded. */
  readonly maxLineLength: number;
  /** Largest literal collected into memory (arguments other than APPEND messages). */
  readonly maxInlineLiteral: number;
  /** All collected literals of one command together. */
  readonly maxInlineTotal: number;
  /** Largest streamed literal: the APPENDLIMIT (RFC 7889). */
  readonly maxAppendLiteral: number;
  /** Largest non-synchronising literal: 4096 for LITERAL- (RFC 7888 §5), larger for LITERAL+. */
  readonly maxNonSyncLiteral: number;
  /** Nesting of parenthesised lists. */
  readonly maxDepth: number;
  /** Tokens of one command (lists included). */
  readonly maxTokens: number;
  /** A refused non-synchronising literal up to this size is read and dropped; a larger one is fatal. */
  readonly maxDiscard: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = {
  maxLineLength: 64 * 1024,
  maxInlineLiteral: 8 * 1024,
  maxInlineTotal: 64 * 1024,
  maxAppendLiteral: 50 * 1024 * 1024,
  maxNonSyncLiteral: 4096,
  maxDepth: 16,
  maxTokens: 10_000,
  maxDiscard: 50 * 1024 * 1024,
};

/** Where a literal stands in its command: enough to tell an APPEND message from any other string. */
export interface LiteralContext {
  /** Upper-case command name (the word after the tag). */
  readonly command: string;
  /** Index among the command's top-level arguments (after the command name) of the literal or its list. */
  readonly argIndex: number;
  /** 0 at top level, 1 inside one list, ... */
  readonly depth: number;
}

/**
 * APPEND's first argument is the mailbox; every later literal is message data (RFC 3502 append-data,
 * RFC 6855 `UTF8 (~{n})`), so those are streamed.
 */
export function streamAppendMessages(ctx: LiteralContext): boolean {
  return ctx.command === 'APPEND' && ctx.argIndex > 0;
}

export interface CommandEvent {
  readonly kind: 'command';
  readonly tag: string;
  /** Upper-case command name. */
  readonly name: string;
  /** The arguments after the command name. */
  readonly args: readonly Token[];
}

/**
 * A literal is about to be read. When `synchronizing`, the reader waits: the session calls `accept()` and
 * sends `+ ...` (RFC 9051 §7.5), or `refuse()` and sends a tagged NO/BAD (the client then sends nothing of
 * it). When `streamed`, its octets follow as `literal-data` events and a `literal-end`.
 */
export interface LiteralEvent {
  readonly kind: 'literal';
  readonly tag: string;
  readonly name: string;
  /** Top-level arguments completed so far (an APPEND's mailbox, flags, date ...). */
  readonly args: readonly Token[];
  /** List nesting of the literal (1 for APPEND's `UTF8 (~{n})`). */
  readonly depth: number;
  readonly size: number;
  readonly binary: boolean;
  readonly synchronizing: boolean;
  readonly streamed: boolean;
  /** For streamed literals: matches the `StreamedToken.seq` in the final command and the data events. */
  readonly seq: number;
}

export interface LiteralDataEvent {
  readonly kind: 'literal-data';
  readonly seq: number;
  /** A view of received bytes; valid as long as the caller keeps it. */
  readonly data: Buffer;
}

export interface LiteralEndEvent {
  readonly kind: 'literal-end';
  readonly seq: number;
}

/** A raw line (IDLE's DONE, an AUTHENTICATE response), after `readLine()`; CRLF removed. */
export interface LineEvent {
  readonly kind: 'line';
  readonly line: Buffer;
}

export type ReaderErrorCode =
  | 'syntax'
  | 'bad-tag'
  | 'line-too-long'
  | 'literal-too-large'
  | 'too-deep'
  | 'too-many-args';

export interface ReaderErrorEvent {
  readonly kind: 'error';
  readonly code: ReaderErrorCode;
  readonly message: string;
  /** The command's tag, when it was read before the error (then answer tagged, else `* BAD`). */
  readonly tag?: string;
  readonly name?: string;
  /** For `literal-too-large`: the announced size and the limit it broke. */
  readonly size?: number;
  readonly limit?: number;
  /** The reader cannot find the next command: send `* BYE` and close. */
  readonly fatal: boolean;
}

export type ReaderEvent =
  | CommandEvent
  | LiteralEvent
  | LiteralDataEvent
  | LiteralEndEvent
  | LineEvent
  | ReaderErrorEvent;

export interface ReaderOptions {
  readonly limits?: Partial<ReaderLimits>;
  /** Which literals are streamed instead of collected (default: APPEND messages). */
  readonly streamLiteral?: (ctx: LiteralContext) => boolean;
}
