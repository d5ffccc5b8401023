/**
 * A cursor over a command's tokens with the RFC 9051 §9 terminals (atom, astring, nstring, number,
 * mailbox, flag, sequence-set ...). Every reader throws `CommandParseError`, which the parser turns into a
 * tagged BAD (or NO with a response code).
 */
import { HIERARCHY_DELIMITER } from '../../core/mailboxNames.ts';
import { decodeModifiedUtf7 } from './mutf7.ts';
import type { ResponseCode } from './responseCodes.ts';
import { parseSequenceSet, type SequenceSet, type SequenceSetSyntax } from './sequenceSet.ts';
import { describeToken, type ListToken, type Token } from './tokens.ts';

export class CommandParseError extends Error {
  constructor(
    message: string,
    readonly status: 'BAD' | 'NO' = 'BAD',
    readonly code?: ResponseCode,
  ) {
    super(message);
  }
}

export interface ParseOptions {
  /** UTF8=ACCEPT or IMAP4rev2 enabled: mailbox names are UTF-8, not modified UTF-7 (RFC 6855 §3). */
  readonly utf8: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const NUMBER = /^[0-9]{1,10}$/;
const NUMBER64 = /^[0-9]{1,19}$/;
const MAX_NUMBER = 0xffffffff;
const MAX_NUMBER64 = 2n ** 63n - 1n;
/** flag-keyword = atom; system flags are `\` + atom; `\*` only in PERMANENTFLAGS (never from clients). */
const FLAG = /^\\?[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;
const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** Octets as UTF-8 text; invalid UTF-8 is a BAD (names and searches need a definite meaning). */
export function utf8Text(bytes: Buffer, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new CommandParseError(`${what} is not valid UTF-8`);
  }
}

/** `INBOX` in any case is INBOX (RFC 9051 §5.1), and so is the first level of a name under it. */
export function normalizeInbox(name: string): string {
  const upper = name.slice(0, 6).toUpperCase();
  if (upper === 'INBOX' && name.length === 5) return 'INBOX';
  if (upper === `INBOX${HIERARCHY_DELIMITER}`) return `INBOX${name.slice(5)}`;
  return name;
}

/**
 * A mailbox name (or pattern) from the wire: UTF-8 in UTF-8 mode; otherwise modified UTF-7 (RFC 3501
 * §5.1.3), where raw UTF-8 from a client that skipped ENABLE is tolerated as UTF-8.
 */
export function decodeMailboxBytes(bytes: Buffer, opts: ParseOptions): string {
  const text = utf8Text(bytes, 'mailbox name');
  if (opts.utf8 || /[^\x00-\x7f]/.test(text)) return text;
  const decoded = decodeModifiedUtf7(text);
  if (decoded === null) throw new CommandParseError('mailbox name is not valid modified UTF-7');
  return decoded;
}

/** The canonical spelling of a system flag (`\seen` is `\Seen`); keywords are kept as sent. */
export function canonicalFlag(flag: string): string {
  if (!flag.startsWith('\\')) return flag;
  return SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase()) ?? flag;
}

export class Args {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly opts: ParseOptions,
  ) {}

  get done(): boolean {
    return this.index >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.index];
  }

  /** The next token when it is an atom, upper-cased, without consuming it. */
  peekKeyword(): string | undefined {
    const t = this.tokens[this.index];
    return t?.type === 'atom' ? t.value.toUpperCase() : undefined;
  }

  next(what: string): Token {
    const t = this.tokens[this.index];
    if (t === undefined) throw new CommandParseError(`missing ${what}`);
    this.index++;
    return t;
  }

  /** Consumes the next token if it is the given keyword (case-insensitive). */
  accept(keyword: string): boolean {
    if (this.peekKeyword() !== keyword) return false;
    this.index++;
    return true;
  }

  end(): void {
    if (!this.done) throw new CommandParseError(`unexpected ${describeToken(this.peek())}`);
  }

  atom(what: string): string {
    const t = this.next(what);
    if (t.type !== 'atom') throw new CommandParseError(`${what}: expected an atom, got ${describeToken(t)}`);
    return t.value;
  }

  keyword(what: string): string {
    return this.atom(what).toUpperCase();
  }

  /** astring (atom or string) as octets. */
  astringBytes(what: string): Buffer {
    const t = this.next(what);
    if (t.type === 'atom') return Buffer.from(t.value, 'utf8');
    if (t.type === 'string') return t.value;
    throw new CommandParseError(`${what}: expected a string, got ${describeToken(t)}`);
  }

  astring(what: string): string {
    return utf8Text(this.astringBytes(what), what);
  }

  /** string (quoted or literal), not an atom. */
  string(what: string): string {
    const t = this.next(what);
    if (t.type !== 'string') throw new CommandParseError(`${what}: expected a string, got ${describeToken(t)}`);
    return utf8Text(t.value, what);
  }

  /** nstring: a string or NIL (null). */
  nstring(what: string): string | null {
    const t = this.peek();
    if (t?.type === 'atom' && t.value.toUpperCase() === 'NIL') {
      this.index++;
      return null;
    }
    return this.string(what);
  }

  number(what: string): number {
    const text = this.atom(what);
    if (!NUMBER.test(text) || Number(text) > MAX_NUMBER) throw new CommandParseError(`${what}: invalid number`);
    return Number(text);
  }

  nzNumber(what: string): number {
    const n = this.number(what);
    if (n === 0) throw new CommandParseError(`${what}: must not be 0`);
    return n;
  }

  /** number64 / mod-sequence-value (RFC 9051 §9, RFC 7162 §7). */
  number64(what: string): bigint {
    const text = this.atom(what);
    if (!NUMBER64.test(text) || BigInt(text) > MAX_NUMBER64) throw new CommandParseError(`${what}: invalid number`);
    return BigInt(text);
  }

  list(what: string): Args {
    const t = this.next(what);
    if (t.type !== 'list')
      throw new CommandParseError(`${what}: expected a parenthesised list, got ${describeToken(t)}`);
    return new Args(t.items, this.opts);
  }

  /** The next token if it is a list (without consuming anything otherwise). */
  optionalList(): Args | undefined {
    const t = this.peek();
    if (t?.type !== 'list') return undefined;
    this.index++;
    return new Args((t as ListToken).items, this.opts);
  }

  /** mailbox: decoded and INBOX-normalised. */
  mailbox(what = 'mailbox name'): string {
    return normalizeInbox(decodeMailboxBytes(this.astringBytes(what), this.opts));
  }

  /**
   * list-mailbox (a LIST pattern: atoms may hold `%`, `*` and `]`), decoded, in Unicode NFC as stored names
   * are (RFC 9051 §5.1), INBOX not normalised.
   */
  pattern(what = 'mailbox pattern'): string {
    return decodeMailboxBytes(this.astringBytes(what), this.opts).normalize('NFC');
  }

  sequenceSet(what = 'sequence set', syntax?: SequenceSetSyntax): SequenceSet {
    const set = parseSequenceSet(this.atom(what), syntax);
    if (set === null) throw new CommandParseError(`invalid ${what}`);
    return set;
  }

  /** A flag for STORE or APPEND: keywords or system flags; `\Recent` cannot be set (RFC 9051 §2.3.2). */
  flag(): string {
    const text = this.atom('flag');
    if (!FLAG.test(text)) throw new CommandParseError(`invalid flag ${text.slice(0, 40)}`);
    if (text.toLowerCase() === '\\recent') throw new CommandParseError('\\Recent cannot be stored');
    const flag = canonicalFlag(text);
    // RFC 3501 §9 flag-extension: a server MUST NOT generate unknown system flags, so it does not store them.
    if (flag.startsWith('\\') && !SYSTEM_FLAGS.includes(flag)) {
      throw new CommandParseError(`unknown system flag ${text.slice(0, 40)}`);
    }
    return flag;
  }

  /** flag-list = "(" [flag *(SP flag)] ")" */
  flagList(): string[] {
    const list = this.list('flag list');
    const flags: string[] = [];
    while (!list.done) flags.push(list.flag());
    return flags;
  }
}
