/**
 * Untagged data responses (RFC 9051 §7.2-7.4 and the extensions): EXISTS, EXPUNGE, VANISHED (RFC 7162),
 * FLAGS, LIST/LSUB (RFC 5258 extended data), STATUS, SEARCH, ESEARCH (RFC 4731), CAPABILITY, ENABLED
 * (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342), QUOTA and QUOTAROOT (RFC 9208).
 */
import type { StatusItem } from './ast.ts';
import {
  astr,
  atom,
  encodeLine,
  list,
  mailboxValue,
  NIL,
  nstr,
  num,
  str,
  type Value,
  type WriteOptions,
} from './encode.ts';
import { encodeModifiedUtf7 } from './mutf7.ts';
import { formatSequenceSet, type NumberRange } from './sequenceSet.ts';

export const exists = (count: number): Buffer => Buffer.from(`* ${count} EXISTS\r\n`);
export const recent = (count: number): Buffer => Buffer.from(`* ${count} RECENT\r\n`);
export const expunge = (seq: number): Buffer => Buffer.from(`* ${seq} EXPUNGE\r\n`);

/** RFC 7162 §3.2.10: `* VANISHED (EARLIER) 1:3,7`; nothing to say for an empty set. */
export function vanished(uids: readonly number[] | readonly NumberRange[], earlier: boolean): Buffer {
  const set = formatSequenceSet(uids);
  if (set === '') return Buffer.alloc(0);
  return Buffer.from(`* VANISHED ${earlier ? '(EARLIER) ' : ''}${set}\r\n`);
}

const flagList = (flags: readonly string[]): Value => list(flags.map(atom));

export const flags = (f: readonly string[], opts: WriteOptions): Buffer => encodeLine('* FLAGS', [flagList(f)], opts);

export const capability = (caps: readonly string[]): Buffer =>
  Buffer.from(`* ${['CAPABILITY', ...caps].join(' ')}\r\n`);

export const enabled = (caps: readonly string[]): Buffer => Buffer.from(`* ${['ENABLED', ...caps].join(' ')}\r\n`);

export interface ListEntry {
  /** Name attributes: `\HasNoChildren`, `\Subscribed`, `\Sent` ... */
  readonly attributes: readonly string[];
  /** The hierarchy delimiter, or null for a flat name space. */
  readonly delimiter: string | null;
  readonly name: string;
  /** RFC 5258 §3.5 CHILDINFO extended data, e.g. ['SUBSCRIBED']. */
  readonly childInfo?: readonly string[];
  /** RFC 9051 §7.3.1 OLDNAME extended data. */
  readonly oldName?: string;
}

function listLine(kind: 'LIST' | 'LSUB', entry: ListEntry, opts: WriteOptions): Buffer {
  const values: Value[] = [list(entry.attributes.map(atom)), nstr(entry.delimiter), mailboxValue(entry.name, opts)];
  const extended: Value[] = [];
  if (entry.childInfo && entry.childInfo.length > 0) extended.push(str('CHILDINFO'), list(entry.childInfo.map(str)));
  if (entry.oldName !== undefined) extended.push(str('OLDNAME'), list([mailboxValue(entry.oldName, opts)]));
  if (extended.length > 0) values.push(list(extended));
  return encodeLine(`* ${kind}`, values, opts);
}

export const listResponse = (entry: ListEntry, opts: WriteOptions): Buffer => listLine('LIST', entry, opts);
export const lsubResponse = (entry: ListEntry, opts: WriteOptions): Buffer => listLine('LSUB', entry, opts);

export type StatusValue =
  | { readonly item: Exclude<StatusItem, 'MAILBOXID'>; readonly value: number | bigint }
  | {
      readonly item: 'MAILBOXID';
      readonly value: string;
    };

/** `* STATUS name (MESSAGES 3 UIDNEXT 9)`, items in the order given. */
export function statusResponse(mailbox: string, values: readonly StatusValue[], opts: WriteOptions): Buffer {
  const items = values.flatMap((v): Value[] =>
    v.item === 'MAILBOXID' ? [atom('MAILBOXID'), list([atom(v.value)])] : [atom(v.item), num(v.value)],
  );
  return encodeLine('* STATUS', [mailboxValue(mailbox, opts), list(items)], opts);
}

/** RFC 9051 §7.3.5 / RFC 7162 §3.1.5: `* SEARCH 2 5 (MODSEQ 9)`. */
export function searchResponse(numbers: readonly number[], modSeq?: bigint): Buffer {
  const parts = ['* SEARCH', ...numbers.map(String)];
  if (modSeq !== undefined && numbers.length > 0) parts.push(`(MODSEQ ${modSeq})`);
  return Buffer.from(`${parts.join(' ')}\r\n`);
}

export interface EsearchResult {
  /** The command's tag (RFC 4731 search-correlator). */
  readonly tag?: string;
  readonly uid: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly count?: number;
  readonly all?: readonly number[] | readonly NumberRange[];
  readonly modSeq?: bigint;
}

/** RFC 4731 §3.1: `* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 4 ALL 2,4:5,9`. */
export function esearchResponse(r: EsearchResult, opts: WriteOptions): Buffer {
  const values: Value[] = [];
  if (r.tag !== undefined) values.push(list([atom('TAG'), str(r.tag)]));
  if (r.uid) values.push(atom('UID'));
  if (r.min !== undefined) values.push(atom('MIN'), num(r.min));
  if (r.max !== undefined) values.push(atom('MAX'), num(r.max));
  if (r.count !== undefined) values.push(atom('COUNT'), num(r.count));
  const all = r.all ? formatSequenceSet(r.all) : '';
  if (all !== '') values.push(atom('ALL'), atom(all));
  if (r.modSeq !== undefined) values.push(atom('MODSEQ'), num(r.modSeq));
  return encodeLine('* ESEARCH', values, opts);
}

/** RFC 2971 §3.2: `* ID ("name" "Postern")` or `* ID NIL`. */
export function idResponse(params: readonly (readonly [string, string | null])[] | null, opts: WriteOptions): Buffer {
  if (params === null || params.length === 0) return Buffer.from('* ID NIL\r\n');
  return encodeLine('* ID', [list(params.flatMap(([k, v]) => [str(k), nstr(v)]))], opts);
}

export interface NamespaceDescription {
  readonly prefix: string;
  readonly delimiter: string | null;
}

function namespaceValue(spaces: readonly NamespaceDescription[] | null, opts: WriteOptions): Value {
  if (spaces === null || spaces.length === 0) return NIL;
  return list(spaces.map((s) => list([str(opts.utf8 ? s.prefix : encodeModifiedUtf7(s.prefix)), nstr(s.delimiter)])));
}

/** RFC 2342 §5: personal, other users' and shared namespaces. */
export function namespaceResponse(
  personal: readonly NamespaceDescription[] | null,
  other: readonly NamespaceDescription[] | null,
  shared: readonly NamespaceDescription[] | null,
  opts: WriteOptions,
): Buffer {
  return encodeLine(
    '* NAMESPACE',
    [namespaceValue(personal, opts), namespaceValue(other, opts), namespaceValue(shared, opts)],
    opts,
  );
}

export interface QuotaResource {
  /** STORAGE (in KiB), MESSAGE, MAILBOX ... (RFC 9208 §5) */
  readonly name: string;
  readonly usage: number | bigint;
  readonly limit: number | bigint;
}

/** RFC 9208 §7.1: `* QUOTA "" (STORAGE 10 512)`. */
export function quotaResponse(root: string, resources: readonly QuotaResource[], opts: WriteOptions): Buffer {
  const items = resources.flatMap((r) => [atom(r.name.toUpperCase()), num(r.usage), num(r.limit)]);
  return encodeLine('* QUOTA', [astr(root), list(items)], opts);
}

/** RFC 9208 §7.2: `* QUOTAROOT INBOX ""`. */
export function quotaRootResponse(mailbox: string, roots: readonly string[], opts: WriteOptions): Buffer {
  return encodeLine('* QUOTAROOT', [mailboxValue(mailbox, opts), ...roots.map(astr)], opts);
}
