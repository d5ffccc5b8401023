/**
 * SEARCH criteria (RFC 9051 §6.4.4) evaluated against one message: flags from the session's view, sizes,
 * dates and header keys from the stored index item (its summary's search headers). BODY, TEXT and HEADER
 * fields the summary does not keep are answered from `SearchSubject.text` once the message was read
 * (searchText.ts); until then they are unknown,
 * and so is any combination they decide, so only the messages the cheaper keys leave open are read.
 * Keys this server cannot answer at all are reported by `unsupportedKey` before anything runs.
 */
import type { MessageMeta } from '../core/ports.ts';
import type { ImapDate, NumberRange, SearchKey } from './codec/index.ts';
import { rangesContain } from './codec/index.ts';
import { emailId } from './objectId.ts';

export interface SearchSubject {
  readonly seq: number;
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
  readonly meta: MessageMeta | undefined;
  /** The answers of the keys that read the message (textKeys), once it was read. */
  readonly text?: ReadonlyMap<TextSearchKey, boolean>;
}

/**
 * A key answered by reading the message: BODY, TEXT, or HEADER with a field the summary does not keep (the
 * very object in the parsed criteria: its answer is looked up by identity).
 */
export type TextSearchKey =
  | { readonly type: 'BODY' | 'TEXT'; readonly value: string }
  | { readonly type: 'HEADER'; readonly field: string; readonly value: string };

/** true, false, or undefined: not known without reading the body. */
export type Verdict = boolean | undefined;

export interface SearchContext {
  /** Resolves a UID or SEQUENCE key's set, in the same kind of numbers. */
  ranges(key: Extract<SearchKey, { type: 'UID' | 'SEQUENCE' }>): readonly NumberRange[];
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_FIELDS: Record<string, 'from' | 'to' | 'cc' | 'bcc' | 'subject'> = {
  FROM: 'from',
  TO: 'to',
  CC: 'cc',
  BCC: 'bcc',
  SUBJECT: 'subject',
};

const SUMMARY_HEADERS: Record<string, string> = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  subject: 'subject',
  date: 'date',
  'message-id': 'messageId',
  'in-reply-to': 'inReplyTo',
  references: 'references',
  'reply-to': 'replyTo',
  sender: 'sender',
  'list-id': 'listId',
};

/** The keys inside NOT, OR and a parenthesised list; undefined for any other key. */
function inner(k: SearchKey): readonly SearchKey[] | undefined {
  if (k.type === 'NOT') return [k.key];
  if (k.type === 'OR') return [k.left, k.right];
  if (k.type === 'AND') return k.keys;
  return undefined;
}

/** The first key this evaluator cannot answer, if any. */
export function unsupportedKey(keys: readonly SearchKey[]): string | undefined {
  for (const k of keys) {
    switch (k.type) {
      case 'NOT':
      case 'OR':
      case 'AND': {
        // every key inside counts, not just the first (`NOT SEEN HEADER X-Foo y`)
        const found = unsupportedKey(inner(k) ?? []);
        if (found) return found;
        break;
      }
      case 'MODSEQ':
        // per-flag entries (RFC 7162 §3.1.5 entry names) are not kept apart
        if (k.entry) return 'MODSEQ with an entry';
        break;
    }
  }
  return undefined;
}

/** Whether any key needs the index item (headers, sizes, dates) rather than flags and numbers alone. */
export function needsMeta(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => {
    const sub = inner(k);
    if (sub) return needsMeta(sub);
    return (
      !(k.type in FLAG_KEYS) &&
      !['ALL', 'UID', 'SEQUENCE', 'KEYWORD', 'UNKEYWORD', 'NEW', 'OLD', 'RECENT', 'MODSEQ'].includes(k.type)
    );
  });
}

/** Whether a MODSEQ key appears anywhere (the response then carries the highest mod-sequence found). */
export function usesModseq(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => k.type === 'MODSEQ' || usesModseq(inner(k) ?? []));
}

const inSummary = (field: string): boolean => field.toLowerCase() in SUMMARY_HEADERS;

/** Every key that reads the message (TextSearchKey), nested ones included. */
export function textKeys(keys: readonly SearchKey[]): TextSearchKey[] {
  return keys.flatMap((k): TextSearchKey[] => {
    if (k.type === 'BODY' || k.type === 'TEXT') return [k as TextSearchKey];
    if (k.type === 'HEADER' && !inSummary(k.field)) return [k];
    return textKeys(inner(k) ?? []);
  });
}

/** Midnight UTC of a SEARCH date (dates compare in UTC, ignoring time and zone, RFC 9051 §6.4.4). */
const dayStart = (d: ImapDate): number => Date.UTC(d.year, d.month - 1, d.day);
const DAY = 86_400_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** RFC 5322 §3.3 date: `[day-of-week ","] day month year`, obsolete forms (§4.3) included. */
const RFC5322_DATE = /(?:^|[\s,])(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})(?!\d)/i;

/**
 * The Date header's day as written, in the header's own zone (RFC 3501 §6.4.4 / RFC 9051 §6.4.4 SENT*:
 * "disregarding time and timezone"), as midnight UTC of that day: `1 Jan 2002 23:30 -0500` is 1 January,
 * though it is 2 January in UTC. A date only Date.parse reads falls back to its UTC day.
 */
export function sentDay(meta: MessageMeta | undefined): number | undefined {
  const summary = meta?.summary;
  const m = summary?.envelope.date ? RFC5322_DATE.exec(summary.envelope.date) : null;
  const month = m ? MONTHS.indexOf(m[2].toLowerCase()) : -1;
  if (m && month >= 0) {
    const written = Number(m[3]);
    // RFC 5322 §4.3: a two-digit year below 50 is 20xx, others 19xx; a three-digit one adds 1900
    const year =
      m[3].length === 2 ? (written < 50 ? 2000 : 1900) + written : m[3].length === 3 ? 1900 + written : written;
    return Date.UTC(year, month, Number(m[1]));
  }
  if (summary?.sentDate === undefined) return undefined;
  const d = new Date(summary.sentDate);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function compareDay(when: number | undefined, key: ImapDate, kind: 'BEFORE' | 'ON' | 'SINCE'): boolean {
  if (when === undefined) return false;
  const start = dayStart(key);
  if (kind === 'BEFORE') return when < start;
  if (kind === 'SINCE') return when >= start;
  return when >= start && when < start + DAY;
}

function contains(haystack: string | undefined, needle: string): boolean {
  if (needle === '') return true;
  return (haystack ?? '').toLowerCase().includes(needle.toLowerCase());
}

/** The keys ANDed (RFC 9051 §6.4.4): false as soon as one is false, unknown while one is unknown. */
export function matchesAll(keys: readonly SearchKey[], m: SearchSubject, ctx: SearchContext): Verdict {
  let known = true;
  for (const k of keys) {
    const v = matches(k, m, ctx);
    if (v === false) return false;
    if (v === undefined) known = false;
  }
  return known ? true : undefined;
}

function either(left: Verdict, right: Verdict): Verdict {
  if (left === true || right === true) return true;
  return left === undefined || right === undefined ? undefined : false;
}

export function matches(key: SearchKey, m: SearchSubject, ctx: SearchContext): Verdict {
  const headers = m.meta?.summary?.headers as Record<string, string | undefined> | undefined;
  switch (key.type) {
    case 'ALL':
    case 'OLD':
      return true;
    case 'NEW':
    case 'RECENT':
      return false;
    case 'KEYWORD':
      return m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
    case 'UNKEYWORD':
      return !m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase());
    case 'UID':
      return rangesContain(ctx.ranges(key), m.uid);
    case 'SEQUENCE':
      return rangesContain(ctx.ranges(key), m.seq);
    case 'NOT': {
      const v = matches(key.key, m, ctx);
      return v === undefined ? undefined : !v;
    }
    case 'OR':
      return either(matches(key.left, m, ctx), matches(key.right, m, ctx));
    case 'AND':
      return matchesAll(key.keys, m, ctx);
    case 'BODY':
    case 'TEXT':
      return m.text?.get(key as TextSearchKey);
    case 'MODSEQ':
      return BigInt(m.modseq) >= key.modSeq;
    case 'LARGER':
      return (m.meta?.size ?? 0) > key.size;
    case 'SMALLER':
      return (m.meta?.size ?? 0) < key.size;
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
      return compareDay(m.meta?.internalDate, key.date, key.type);
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return compareDay(sentDay(m.meta), key.date, key.type.slice(4) as 'BEFORE' | 'ON' | 'SINCE');
    case 'OLDER':
      return (m.meta?.internalDate ?? 0) <= Date.now() - key.seconds * 1000;
    case 'YOUNGER':
      return (m.meta?.internalDate ?? 0) > Date.now() - key.seconds * 1000;
    case 'FROM':
    case 'TO':
    case 'CC':
    case 'BCC':
    case 'SUBJECT':
      return contains(headers?.[HEADER_FIELDS[key.type]], key.value);
    case 'HEADER': {
      if (!inSummary(key.field)) return m.text?.get(key);
      const value = headers?.[SUMMARY_HEADERS[key.field.toLowerCase()]];
      return key.value === '' ? value !== undefined : contains(value, key.value);
    }
    // RFC 8474 §6 (no threads: THREADID matches nothing) and RFC 8514 §5 (every mailbox keeps save dates).
    case 'EMAILID':
      return m.meta !== undefined && emailId(m.meta) === key.id;
    case 'THREADID':
      return false;
    case 'SAVEDATESUPPORTED':
      return true;
    case 'SAVEDBEFORE':
    case 'SAVEDON':
    case 'SAVEDSINCE': {
      const saved = m.meta?.savedAt ?? m.meta?.internalDate;
      return compareDay(saved, key.date, key.type.slice(5) as 'BEFORE' | 'ON' | 'SINCE');
    }
    default: {
      const flag = FLAG_KEYS[key.type];
      if (flag) return m.flags.includes(flag[0]) === flag[1];
      return false;
    }
  }
}
