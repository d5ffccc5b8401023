/**
 * FETCH responses (RFC 9051 §7.5.2) as segments: body data may be a Buffer or a `LiteralStream` marker the
 * session fills from storage, so a whole message is never held in memory.
 */
import type { BodyPart, Envelope } from '../../mime/summary.ts';
import type { Section } from './ast.ts';
import { formatDateTime } from './dates.ts';
import {
  atom,
  list,
  literal,
  NIL,
  num,
  type Segment,
  SegmentWriter,
  str,
  streamed,
  type Value,
  type WriteOptions,
} from './encode.ts';
import { bodyValue, envelopeValue } from './writeBody.ts';

/** Octets of a body item: in memory, absent (NIL), or streamed later (exactly `length` octets). */
export type BodyData<S> = Buffer | null | { readonly length: number; readonly source: S };

export type FetchResponseItem<S = never> =
  | { readonly item: 'UID'; readonly uid: number }
  | { readonly item: 'FLAGS'; readonly flags: readonly string[] }
  | { readonly item: 'INTERNALDATE'; readonly date: Date; readonly offsetMinutes?: number }
  | { readonly item: 'RFC822.SIZE'; readonly size: number }
  | { readonly item: 'ENVELOPE'; readonly envelope: Envelope }
  | { readonly item: 'BODYSTRUCTURE' | 'BODY'; readonly body: BodyPart }
  | { readonly item: 'MODSEQ'; readonly modSeq: bigint }
  | { readonly item: 'EMAILID'; readonly id: string }
  | { readonly item: 'THREADID'; readonly id: string | null }
  | { readonly item: 'SAVEDATE'; readonly date: Date | null }
  /** BODY[section]<origin>: `origin` only when the client asked for a partial range. */
  | { readonly item: 'BODY[]'; readonly section: Section; readonly origin?: number; readonly data: BodyData<S> }
  /**
   * RFC 3516 BINARY[part]<origin>: sent as literal8, or as a plain literal when `literal8` is false (§4.3:
   * SHOULD, when the decoded data has no NUL).
   */
  | {
      readonly item: 'BINARY';
      readonly part: readonly number[];
      readonly origin?: number;
      readonly data: BodyData<S>;
      readonly literal8?: boolean;
    }
  | { readonly item: 'BINARY.SIZE'; readonly part: readonly number[]; readonly size: number }
  | { readonly item: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'; readonly data: BodyData<S> };

const FIELD_ATOM = /^[!#-'*+\-.0-9A-Z^-~]+$/;

/** The section as a response names it: `1.2.HEADER.FIELDS (From To)`. */
export function formatSection(section: Section): string {
  const parts = section.part.join('.');
  if (!section.text) return parts;
  let text = parts === '' ? section.text : `${parts}.${section.text}`;
  if (section.fields) {
    const names = section.fields.map((f) => (FIELD_ATOM.test(f) ? f : JSON.stringify(f)));
    text += ` (${names.join(' ')})`;
  }
  return text;
}

function dataValue<S>(data: BodyData<S>, binary: boolean): Value<S> {
  if (data === null) return NIL;
  if (Buffer.isBuffer(data)) return literal(data, binary);
  return streamed(data.length, data.source, binary);
}

const origin = (o: number | undefined): string => (o === undefined ? '' : `<${o}>`);

function itemValues<S>(it: FetchResponseItem<S>, opts: WriteOptions): Value<S>[] {
  switch (it.item) {
    case 'UID':
      return [atom('UID'), num(it.uid)];
    case 'FLAGS':
      return [atom('FLAGS'), list(it.flags.map(atom))];
    case 'INTERNALDATE':
      return [atom('INTERNALDATE'), str(formatDateTime(it.date, it.offsetMinutes))];
    case 'RFC822.SIZE':
      return [atom('RFC822.SIZE'), num(it.size)];
    case 'ENVELOPE':
      return [atom('ENVELOPE'), envelopeValue(it.envelope)];
    case 'BODYSTRUCTURE':
    case 'BODY':
      return [atom(it.item), bodyValue(it.body, it.item === 'BODYSTRUCTURE', opts.utf8)];
    case 'MODSEQ':
      return [atom('MODSEQ'), list([num(it.modSeq)])];
    case 'EMAILID':
      return [atom('EMAILID'), list([atom(it.id)])];
    case 'THREADID':
      return [atom('THREADID'), it.id === null ? NIL : list([atom(it.id)])];
    case 'SAVEDATE':
      return [atom('SAVEDATE'), it.date === null ? NIL : str(formatDateTime(it.date))];
    case 'BODY[]':
      return [atom(`BODY[${formatSection(it.section)}]${origin(it.origin)}`), dataValue(it.data, false)];
    case 'BINARY':
      return [atom(`BINARY[${it.part.join('.')}]${origin(it.origin)}`), dataValue(it.data, it.literal8 ?? true)];
    case 'BINARY.SIZE':
      return [atom(`BINARY.SIZE[${it.part.join('.')}]`), num(it.size)];
    default:
      return [atom(it.item), dataValue(it.data, false)];
  }
}

/** `* seq FETCH (items)` as segments: Buffers and, for streamed data, literal markers. */
export function fetchResponse<S = never>(
  seq: number,
  items: readonly FetchResponseItem<S>[],
  opts: WriteOptions,
): Segment<S>[] {
  const w = new SegmentWriter<S>().text(`* ${seq} FETCH `);
  w.value(list(items.flatMap((it) => itemValues(it, opts))), opts);
  return w.text('\r\n').finish();
}

/** The whole response as one Buffer, when no item is streamed. */
export function fetchResponseBuffer(seq: number, items: readonly FetchResponseItem[], opts: WriteOptions): Buffer {
  return Buffer.concat(fetchResponse(seq, items, opts) as Buffer[]);
}
