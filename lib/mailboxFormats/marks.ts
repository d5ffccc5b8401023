/**
 * A message's IMAP flags as the mailbox file formats carry them: mbox's Status / X-Status / X-Keywords
 * headers (as mutt, Dovecot and python's mailbox module read and write them) and the header block filter
 * that drops and collects those headers.
 */
import { type LinePiece, toLf } from './lines.ts';

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

/** Flags split as the formats store them: the system flags (canonical case) and the keywords. */
export interface Marks {
  readonly system: ReadonlySet<string>;
  readonly keywords: readonly string[];
}

/** Splits IMAP flags; `\Recent` and unknown system flags are not kept (they are session state, not data). */
export function marksOf(flags: readonly string[]): Marks {
  const system = new Set<string>();
  const keywords: string[] = [];
  for (const flag of flags) {
    if (flag.startsWith('\\')) {
      const known = SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase());
      if (known) system.add(known);
    } else if (!keywords.some((k) => k.toLowerCase() === flag.toLowerCase())) keywords.push(flag);
  }
  return { system, keywords };
}

export const flagsOf = (marks: Marks): string[] => [
  ...SYSTEM_FLAGS.filter((f) => marks.system.has(f)),
  ...marks.keywords,
];

/** An IMAP keyword is an atom (RFC 9051 §9 flag-keyword): what an imported X-Keywords word must be to count. */
export const isKeyword = (word: string): boolean => /^[!#$&'+-[^-z|}~]+$/.test(word) && !word.includes('\\');

// ---------------------------------------------------------------- mbox status headers

/** X-Status letters in the order Dovecot writes them. */
const X_STATUS: readonly [string, string][] = [
  ['A', '\\Answered'],
  ['F', '\\Flagged'],
  ['T', '\\Draft'],
  ['D', '\\Deleted'],
];

/** The header lines (LF ends) that carry the marks in an mbox entry. */
export function statusHeaders(marks: Marks): string {
  let out = `Status: ${marks.system.has('\\Seen') ? 'RO' : 'O'}\n`;
  const x = X_STATUS.filter(([, flag]) => marks.system.has(flag))
    .map(([letter]) => letter)
    .join('');
  if (x) out += `X-Status: ${x}\n`;
  if (marks.keywords.length > 0) out += `X-Keywords: ${marks.keywords.join(' ')}\n`;
  return out;
}

/** Marks read back from the values of Status, X-Status and X-Keywords (space or comma separated). */
export function marksFromStatus(values: ReadonlyMap<string, string>): Marks {
  const system = new Set<string>();
  if ((values.get('status') ?? '').includes('R')) system.add('\\Seen');
  const x = values.get('x-status') ?? '';
  for (const [letter, flag] of X_STATUS) if (x.includes(letter)) system.add(flag);
  const words = (values.get('x-keywords') ?? '').split(/[\s,]+/).filter(isKeyword);
  return marksOf([...system, ...words]);
}

// ---------------------------------------------------------------- header block filter

/**
 * Headers that mbox tools add to carry state (Dovecot's X-UID, X-IMAP, X-IMAPbase included): dropped from
 * a message on export (ours replace them) and on import (their values become flags).
 */
const STATE_HEADERS = new Set(['status', 'x-status', 'x-keywords', 'x-uid', 'x-imap', 'x-imapbase']);
const MAX_VALUE = 8192;

/** Feeds a header block piece by piece: says which pieces to keep and collects the state headers' values. */
export class StateHeaderFilter {
  readonly values = new Map<string, string>();
  private dropping = false;
  private current: string | undefined;

  /** True when the piece belongs to a state header (or its folded continuation) and is to be left out. */
  drops(piece: LinePiece): boolean {
    const text = toLf(piece).toString('latin1');
    if (piece.start && !/^[ \t]/.test(text)) {
      const name = /^([^:\s]+)[ \t]*:/.exec(text)?.[1].toLowerCase();
      this.dropping = name !== undefined && STATE_HEADERS.has(name);
      this.current = this.dropping ? name : undefined;
      if (this.current) this.collect(text.slice(text.indexOf(':') + 1));
      return this.dropping;
    }
    if (this.dropping) this.collect(text);
    return this.dropping;
  }

  private collect(text: string): void {
    const name = this.current!;
    const value = `${this.values.get(name) ?? ''} ${text.trim()}`.trim();
    this.values.set(name, value.slice(0, MAX_VALUE));
  }
}
