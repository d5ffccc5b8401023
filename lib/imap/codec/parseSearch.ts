/**
 * SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH result options (RFC 4731), SEARCHRES (RFC 5182
 * `$` and SAVE), CONDSTORE MODSEQ (RFC 7162 §3.1.5), OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and WITHIN
 * (RFC 5032). The criteria are ANDed; OR, NOT and parenthesised lists nest.
 */
import { TextDecoder } from 'node:util';
import type { FlagSearchKey, SearchCommand, SearchKey, SearchReturn } from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';
import { type ImapDate, parseDate } from './dates.ts';

/** Nesting of NOT, OR and lists: deep enough for any client, shallow enough for a recursive evaluator. */
export const MAX_SEARCH_DEPTH = 32;
/** What BADCHARSET lists (RFC 9051 §6.4.4: UTF-8 and US-ASCII at least). */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'];

const FLAG_KEYS = new Set<string>([
  'ALL',
  'ANSWERED',
  'DELETED',
  'DRAFT',
  'FLAGGED',
  'NEW',
  'OLD',
  'RECENT',
  'SEEN',
  'UNANSWERED',
  'UNDELETED',
  'UNDRAFT',
  'UNFLAGGED',
  'UNSEEN',
  'SAVEDATESUPPORTED',
]);
const STRING_KEYS = new Set(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO']);
const DATE_KEYS = new Set([
  'BEFORE',
  'ON',
  'SINCE',
  'SENTBEFORE',
  'SENTON',
  'SENTSINCE',
  'SAVEDBEFORE',
  'SAVEDON',
  'SAVEDSINCE',
]);
const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;
const HEADER_NAME = /^[!-9;-~]+$/;

interface SearchContext {
  readonly decoder: TextDecoder;
}

function decoderFor(charset: string | undefined): TextDecoder {
  const label = charset === undefined || charset === 'US-ASCII' ? 'utf-8' : charset;
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    throw new CommandParseError(`charset ${charset?.slice(0, 30)} is not supported`, 'NO', {
      code: 'BADCHARSET',
      charsets: SEARCH_CHARSETS,
    });
  }
}

function text(args: Args, ctx: SearchContext, what: string): string {
  const bytes = args.astringBytes(what);
  try {
    return ctx.decoder.decode(bytes);
  } catch {
    throw new CommandParseError(`${what} is not valid in the given charset`);
  }
}

function date(args: Args): ImapDate {
  const parsed = parseDate(args.astring('date'));
  if (!parsed) throw new CommandParseError('invalid date');
  return parsed;
}

function modSeqKey(args: Args): SearchKey {
  const t = args.peek();
  if (t?.type === 'string') {
    const name = args.string('entry name');
    const entryType = args.atom('entry type').toLowerCase();
    if (!name.toLowerCase().startsWith('/flags/')) throw new CommandParseError('invalid MODSEQ entry name');
    if (entryType !== 'priv' && entryType !== 'shared' && entryType !== 'all') {
      throw new CommandParseError('invalid MODSEQ entry type');
    }
    return { type: 'MODSEQ', modSeq: args.number64('mod-sequence'), entry: { name, entryType } };
  }
  return { type: 'MODSEQ', modSeq: args.number64('mod-sequence') };
}

function keyList(args: Args, ctx: SearchContext, depth: number): SearchKey {
  const list = args.list('search keys');
  const keys: SearchKey[] = [];
  while (!list.done) keys.push(searchKey(list, ctx, depth + 1));
  if (keys.length === 0) throw new CommandParseError('empty search key list');
  return keys.length === 1 ? keys[0] : { type: 'AND', keys };
}

function keyword(args: Args, ctx: SearchContext, key: string, depth: number): SearchKey {
  if (FLAG_KEYS.has(key)) return { type: key as FlagSearchKey };
  if (STRING_KEYS.has(key)) return { type: key as 'BODY', value: text(args, ctx, key) };
  if (DATE_KEYS.has(key)) return { type: key as 'ON', date: date(args) };
  switch (key) {
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { type: key, flag: args.atom('keyword') };
    case 'HEADER': {
      const field = args.astring('header field name');
      if (!HEADER_NAME.test(field)) throw new CommandParseError('invalid header field name');
      return { type: 'HEADER', field, value: text(args, ctx, 'header value') };
    }
    case 'LARGER':
    case 'SMALLER':
      return { type: key, size: Number(args.number64('size')) };
    case 'OLDER':
    case 'YOUNGER':
      return { type: key, seconds: args.nzNumber('interval') };
    case 'UID':
      return { type: 'UID', set: args.sequenceSet('UID set') };
    case 'NOT':
      return { type: 'NOT', key: searchKey(args, ctx, depth + 1) };
    case 'OR': {
      const left = searchKey(args, ctx, depth + 1);
      return { type: 'OR', left, right: searchKey(args, ctx, depth + 1) };
    }
    case 'MODSEQ':
      return modSeqKey(args);
    case 'EMAILID':
    case 'THREADID': {
      const id = args.atom('object id');
      if (!OBJECT_ID.test(id)) throw new CommandParseError('invalid object id');
      return { type: key, id };
    }
    default:
      throw new CommandParseError(`unknown search key ${key.slice(0, 30)}`);
  }
}

function searchKey(args: Args, ctx: SearchContext, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) throw new CommandParseError('search keys nested too deep');
  const t = args.peek();
  if (t?.type === 'list') return keyList(args, ctx, depth);
  if (t?.type === 'atom' && /^[0-9*$]/.test(t.value)) return { type: 'SEQUENCE', set: args.sequenceSet() };
  const key = args.keyword('search key');
  return keyword(args, ctx, key, depth);
}

function parseReturn(list: Args): SearchReturn {
  const r = { min: false, max: false, all: false, count: false, save: false };
  if (list.done) return { ...r, all: true }; // RFC 4731 §3.1: RETURN () is RETURN (ALL)
  while (!list.done) {
    const option = list.keyword('return option');
    if (option === 'MIN') r.min = true;
    else if (option === 'MAX') r.max = true;
    else if (option === 'ALL') r.all = true;
    else if (option === 'COUNT') r.count = true;
    else if (option === 'SAVE') r.save = true;
    else throw new CommandParseError(`unknown SEARCH return option ${option.slice(0, 30)}`);
  }
  return r;
}

export function parseSearch(tag: string, args: Args, uid: boolean): SearchCommand {
  const returns = args.accept('RETURN') ? parseReturn(args.list('return options')) : undefined;
  const charset = args.accept('CHARSET') ? args.astring('charset').toUpperCase() : undefined;
  const ctx: SearchContext = { decoder: decoderFor(charset) };
  const criteria: SearchKey[] = [];
  while (!args.done) criteria.push(searchKey(args, ctx, 0));
  if (criteria.length === 0) throw new CommandParseError('SEARCH needs a search key');
  return {
    type: 'SEARCH',
    tag,
    uid,
    ...(charset ? { charset } : {}),
    ...(returns ? { returns } : {}),
    criteria,
  };
}
