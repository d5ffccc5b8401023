/**
 * FETCH (RFC 9051 §6.4.5): macros, data items with body sections and partial ranges, BINARY (RFC 3516),
 * CONDSTORE/QRESYNC modifiers (RFC 7162 §3.1.4, §3.2.6), EMAILID/THREADID (RFC 8474) and SAVEDATE
 * (RFC 8514). The reader keeps `BODY[HEADER.FIELDS (A B)]<0.10>` as one atom; it is taken apart here.
 */
import type { FetchCommand, FetchItem, PartialRange, Section, SectionText, SimpleFetchItem } from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';

const SIMPLE_ITEMS = new Set<string>([
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
  'MODSEQ',
  'EMAILID',
  'THREADID',
  'SAVEDATE',
]);

const MACROS: Record<'ALL' | 'FAST' | 'FULL', readonly SimpleFetchItem[]> = {
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const ITEM = /^([A-Za-z0-9.]+)(?:\[(.*)\])?(?:<([0-9]{1,15})\.([0-9]{1,15})>)?$/s;
const PART = /^[1-9][0-9]{0,9}$/;
const HEADER_NAME = /^[!-9;-~]+$/;
const TEXT_SPECS = new Set<string>(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);

function bad(message: string): never {
  throw new CommandParseError(message);
}

/** header-list = "(" header-fld-name *(SP header-fld-name) ")", names as atoms or quoted strings. */
function parseHeaderList(text: string): string[] {
  const t = text.trim();
  if (!t.startsWith('(') || !t.endsWith(')')) bad('HEADER.FIELDS needs a parenthesised list of field names');
  const names: string[] = [];
  for (const m of t.slice(1, -1).matchAll(/"((?:[^"\\]|\\["\\])*)"|([^\s"()]+)|(\S)/g)) {
    if (m[3] !== undefined) bad('invalid header field list');
    const name = m[1] !== undefined ? m[1].replace(/\\(["\\])/g, '$1') : m[2];
    if (!HEADER_NAME.test(name)) bad('invalid header field name');
    names.push(name);
  }
  if (names.length === 0) bad('empty header field list');
  return names;
}

/** section-spec inside the brackets (RFC 9051 §9 section). */
export function parseSection(inside: string): Section {
  const space = inside.indexOf(' ');
  const spec = space === -1 ? inside : inside.slice(0, space);
  const rest = space === -1 ? undefined : inside.slice(space + 1);
  const pieces = spec === '' ? [] : spec.split('.');
  const part: number[] = [];
  while (pieces.length > 0 && /^[0-9]/.test(pieces[0])) {
    const p = pieces.shift() ?? '';
    if (!PART.test(p)) bad('invalid section part number');
    part.push(Number(p));
  }
  const text = pieces.join('.').toUpperCase();
  if (text === '') {
    if (rest !== undefined) bad('invalid section');
    return { part };
  }
  if (!TEXT_SPECS.has(text)) bad(`invalid section ${text.slice(0, 30)}`);
  if (text === 'MIME' && part.length === 0) bad('MIME needs a part number');
  const sectionText = text as SectionText;
  if (sectionText === 'HEADER.FIELDS' || sectionText === 'HEADER.FIELDS.NOT') {
    if (rest === undefined) bad('HEADER.FIELDS needs field names');
    return { part, text: sectionText, fields: parseHeaderList(rest) };
  }
  if (rest !== undefined) bad('invalid section');
  return { part, text: sectionText };
}

function parsePartial(offset: string | undefined, length: string | undefined): PartialRange | undefined {
  if (offset === undefined || length === undefined) return undefined;
  const partial = { offset: Number(offset), length: Number(length) };
  if (partial.length === 0) bad('a partial length must not be 0');
  return partial;
}

function binaryPart(inside: string): number[] {
  if (inside === '') return [];
  return inside.split('.').map((p) => (PART.test(p) ? Number(p) : bad('invalid BINARY section')));
}

/** One fetch-att. */
export function parseFetchItem(atom: string): FetchItem {
  const m = ITEM.exec(atom);
  if (!m) bad(`invalid fetch item ${atom.slice(0, 40)}`);
  const name = m[1].toUpperCase();
  const inside = m[2];
  const partial = parsePartial(m[3], m[4]);
  const withPartial = partial ? { partial } : {};
  if (inside === undefined) {
    if (partial || !SIMPLE_ITEMS.has(name)) bad(`invalid fetch item ${atom.slice(0, 40)}`);
    return { type: name as SimpleFetchItem };
  }
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK':
      return { type: 'BODY[]', peek: name === 'BODY.PEEK', section: parseSection(inside), ...withPartial };
    case 'BINARY':
    case 'BINARY.PEEK':
      return { type: 'BINARY', peek: name === 'BINARY.PEEK', part: binaryPart(inside), ...withPartial };
    case 'BINARY.SIZE':
      if (partial) bad('BINARY.SIZE takes no partial range');
      return { type: 'BINARY.SIZE', part: binaryPart(inside) };
    default:
      return bad(`invalid fetch item ${atom.slice(0, 40)}`);
  }
}

function parseItems(args: Args): { items: FetchItem[]; macro?: 'ALL' | 'FAST' | 'FULL' } {
  const list = args.optionalList();
  if (!list) {
    const atom = args.atom('fetch item');
    const upper = atom.toUpperCase();
    if (upper === 'ALL' || upper === 'FAST' || upper === 'FULL') {
      return { items: MACROS[upper].map((type) => ({ type })), macro: upper };
    }
    return { items: [parseFetchItem(atom)] };
  }
  const items: FetchItem[] = [];
  while (!list.done) items.push(parseFetchItem(list.atom('fetch item')));
  if (items.length === 0) bad('empty fetch item list');
  return { items };
}

export function parseFetch(tag: string, args: Args, uid: boolean): FetchCommand {
  const set = args.sequenceSet();
  const { items, macro } = parseItems(args);
  const modifiers = args.optionalList();
  args.end();
  let changedSince: bigint | undefined;
  let vanished = false;
  while (modifiers && !modifiers.done) {
    const name = modifiers.keyword('fetch modifier');
    if (name === 'CHANGEDSINCE' && changedSince === undefined) changedSince = modifiers.number64('mod-sequence');
    else if (name === 'VANISHED') vanished = true;
    else bad(`unknown fetch modifier ${name.slice(0, 30)}`);
  }
  // RFC 7162 §3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE
  if (vanished && (!uid || changedSince === undefined)) bad('VANISHED needs UID FETCH and CHANGEDSINCE');
  return {
    type: 'FETCH',
    tag,
    uid,
    set,
    items,
    ...(macro ? { macro } : {}),
    ...(changedSince === undefined ? {} : { changedSince }),
    vanished,
  };
}
