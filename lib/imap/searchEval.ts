/**
 * SEARCH criteria (RFC 9051 §6.4.4) evaluated against one message: flags from the session's view, sizes,
 * dates and header keys from the stored index item (its summary's search headers), never the body. Keys
 * this server cannot answer from the index are reported by `unsupportedKey` before anything runs.
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
}

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

/** The first key this evaluator cannot answer, if any. */
export function unsupportedKey(keys: readonly SearchKey[]): string | undefined {
  for (const k of keys) {
    switch (k.type) {
      case 'NOT':
        return unsupportedKey([k.key]);
      case 'OR':
        return unsupportedKey([k.left, k.right]);
      case 'AND': {
        const inner = unsupportedKey(k.keys);
        if (inner) return inner;
        break;
      }
      case 'MODSEQ':
        // per-flag entries (RFC 7162 §3.1.5 entry names) are not kept apart
        if (k.entry) return 'MODSEQ with an entry';
        break;
      case 'HEADER':
        if (!(k.field.toLowerCase() in SUMMARY_HEADERS)) return `HEADER ${k.field}`;
        break;
      case 'BODY':
      case 'TEXT':
        return k.type;
    }
  }
  return undefined;
}

/** Whether any key needs the index item (headers, sizes, dates) rather than flags and numbers alone. */
export function needsMeta(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => {
    if (k.type === 'NOT') return needsMeta([k.key]);
    if (k.type === 'OR') return needsMeta([k.left, k.right]);
    if (k.type === 'AND') return needsMeta(k.keys);
    return (
      !(k.type in FLAG_KEYS) &&
      !['ALL', 'UID', 'SEQUENCE', 'KEYWORD', 'UNKEYWORD', 'NEW', 'OLD', 'RECENT', 'MODSEQ'].includes(k.type)
    );
  });
}

/** Whether a MODSEQ key appears anywhere (the response then carries the highest mod-sequence found). */
export function usesModseq(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => {
    if (k.type === 'MODSEQ') return true;
    if (k.type === 'NOT') return usesModseq([k.key]);
    if (k.type === 'OR') return usesModseq([k.left, k.right]);
    if (k.type === 'AND') return usesModseq(k.keys);
    return false;
  });
}

/** Midnight UTC of a SEARCH date (dates compare in UTC, ignoring time and zone, RFC 9051 §6.4.4). */
const dayStart = (d: ImapDate): number => Date.UTC(d.year, d.month - 1, d.day);
const DAY = 86_400_000;

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

export function matches(key: SearchKey, m: SearchSubject, ctx: SearchContext): boolean {
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
    case 'NOT':
      return !matches(key.key, m, ctx);
    case 'OR':
      return matches(key.left, m, ctx) || matches(key.right, m, ctx);
    case 'AND':
      return key.keys.every((k) => matches(k, m, ctx));
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
      return compareDay(m.meta?.summary?.sentDate, key.date, key.type.slice(4) as 'BEFORE' | 'ON' | 'SINCE');
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
