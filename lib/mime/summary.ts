/**
 * What IMAP needs to list and search a mailbox without reading S3, computed once at delivery and stored in
 * the index (MessageMeta.summary): RFC822.SIZE, the header size, ENVELOPE, BODYSTRUCTURE (with each part's
 * octet offsets, so BODY[1.2] is a ranged S3 read), and decoded key header values for SEARCH and SORT.
 *
 * Offsets are into the message as clients see it: the copy's headerPrefix followed by the blob. A summary is
 * computed over the blob (offsets from 0) and then shifted by the prefix length with `forCopy`; the prefix
 * only adds header fields to the top-level header, so every offset moves by the same amount and only the
 * top-level header grows.
 *
 * Shape (version 1), all JSON:
 *   { v: 1, size, headerSize, lines, sentDate?, hasAttachments, envelope, body, headers, truncated? }
 *   envelope: { date, subject, from, sender, replyTo, to, cc, bcc, inReplyTo, messageId } with raw (undecoded)
 *     strings or null, address lists as { name, adl, mailbox, host }[] or null (RFC 3501 §7.4.2).
 *   body: { type, subtype, params, id, description, encoding, size, lines?, md5, disposition, language,
 *     location, headerStart, bodyStart, bodyEnd, parts? (multipart), message? ({ envelope, body }, for
 *     message/rfc822) } — type and subtype lower-case, encoding upper-case as IMAP shows it.
 *   headers: decoded values (RFC 2047) of from, to, cc, bcc, subject, date, messageId, inReplyTo,
 *     references, replyTo, sender, listId, each at most 2000 characters.
 */
import { displayAddresses, type EnvelopeAddress, parseAddressList } from './addresses.ts';
import { decodeWords, type HeaderField, headerValue, parseParameterized } from './headers.ts';
import { type MimeLimits, MimeParser, type PartNode } from './parser.ts';

export interface Envelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: EnvelopeAddress[] | null;
  readonly sender: EnvelopeAddress[] | null;
  readonly replyTo: EnvelopeAddress[] | null;
  readonly to: EnvelopeAddress[] | null;
  readonly cc: EnvelopeAddress[] | null;
  readonly bcc: EnvelopeAddress[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

/** The envelope of a message with no header fields to take one from (every field NIL). */
export const EMPTY_ENVELOPE: Envelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

export interface BodyPart {
  readonly type: string;
  readonly subtype: string;
  readonly params: Record<string, string>;
  readonly id: string | null;
  readonly description: string | null;
  readonly encoding: string;
  readonly size: number;
  readonly lines?: number;
  readonly md5: string | null;
  readonly disposition: { readonly type: string; readonly params: Record<string, string> } | null;
  readonly language: string[] | null;
  readonly location: string | null;
  readonly headerStart: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly parts?: BodyPart[];
  readonly message?: { readonly envelope: Envelope; readonly body: BodyPart };
}

export interface SearchHeaders {
  readonly from?: string;
  readonly to?: string;
  readonly cc?: string;
  readonly bcc?: string;
  readonly subject?: string;
  readonly date?: string;
  readonly messageId?: string;
  readonly inReplyTo?: string;
  readonly references?: string;
  readonly replyTo?: string;
  readonly sender?: string;
  readonly listId?: string;
}

export interface MessageSummary {
  readonly v: 1;
  /** RFC822.SIZE. */
  readonly size: number;
  /** Octets of the top-level header, including the empty line that ends it (RFC822.HEADER). */
  readonly headerSize: number;
  /** Lines of the top-level body. */
  readonly lines: number;
  /** The Date header as milliseconds since the epoch, when it parses (SEARCH SENTBEFORE..., SORT DATE). */
  readonly sentDate?: number;
  readonly hasAttachments: boolean;
  readonly envelope: Envelope;
  readonly body: BodyPart;
  readonly headers: SearchHeaders;
  /** Set when a limit cut the structure short (the index then shows the rest as one opaque part). */
  readonly truncated?: true;
}

const MAX_SEARCH_VALUE = 2000;
const MAX_RAW_VALUE = 4000;

const raw = (v: string | undefined): string | null => (v === undefined ? null : v.slice(0, MAX_RAW_VALUE));

function addresses(fields: readonly HeaderField[], name: string): EnvelopeAddress[] | null {
  const list = parseAddressList(headerValue(fields, name));
  return list.length > 0 ? list : null;
}

/** ENVELOPE (RFC 3501 §7.4.2): Sender and Reply-To default to From. */
export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  const from = addresses(fields, 'from');
  return {
    date: raw(headerValue(fields, 'date')),
    subject: raw(headerValue(fields, 'subject')),
    from,
    sender: addresses(fields, 'sender') ?? from,
    replyTo: addresses(fields, 'reply-to') ?? from,
    to: addresses(fields, 'to'),
    cc: addresses(fields, 'cc'),
    bcc: addresses(fields, 'bcc'),
    inReplyTo: raw(headerValue(fields, 'in-reply-to')),
    messageId: raw(headerValue(fields, 'message-id')),
  };
}

function bodyPart(node: PartNode, state: { truncated: boolean; attachments: boolean }): BodyPart {
  if (node.headerTruncated) state.truncated = true;
  const h = node.headers;
  const dispositionValue = headerValue(h, 'content-disposition');
  const disposition = dispositionValue ? parseParameterized(dispositionValue) : undefined;
  if (disposition?.value === 'attachment' || (node.type !== 'multipart' && disposition?.params.filename)) {
    state.attachments = true;
  }
  const language = headerValue(h, 'content-language');
  const base = {
    type: node.type,
    subtype: node.subtype,
    params: node.params,
    id: raw(headerValue(h, 'content-id')),
    description: raw(headerValue(h, 'content-description')),
    encoding: (headerValue(h, 'content-transfer-encoding') ?? '7bit').trim().toUpperCase() || '7BIT',
    size: node.bodyEnd - node.bodyStart,
    md5: raw(headerValue(h, 'content-md5')),
    disposition: disposition?.value ? { type: disposition.value, params: disposition.params } : null,
    language: language
      ? language
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    location: raw(headerValue(h, 'content-location')),
    headerStart: node.headerStart,
    bodyStart: node.bodyStart,
    bodyEnd: node.bodyEnd,
  };
  if (node.type === 'multipart') {
    if (node.children.length === 0) state.truncated = true;
    return { ...base, parts: node.children.map((c) => bodyPart(c, state)) };
  }
  if (node.message) {
    return {
      ...base,
      lines: node.lines,
      message: { envelope: buildEnvelope(node.message.headers), body: bodyPart(node.message, state) },
    };
  }
  if (node.type === 'text') return { ...base, lines: node.lines };
  return base;
}

function searchValue(v: string | undefined): string | undefined {
  return v === undefined ? undefined : decodeWords(v).slice(0, MAX_SEARCH_VALUE);
}

function searchAddresses(fields: readonly HeaderField[], name: string): string | undefined {
  const v = headerValue(fields, name);
  if (v === undefined) return undefined;
  const shown = displayAddresses(parseAddressList(v));
  return (shown || decodeWords(v)).slice(0, MAX_SEARCH_VALUE);
}

/** The summary of a parsed message (offsets as parsed: from the start of the input). */
export function summarize(root: PartNode, size: number): MessageSummary {
  const state = { truncated: false, attachments: false };
  const body = bodyPart(root, state);
  const h = root.headers;
  const dateValue = headerValue(h, 'date');
  const parsedDate = dateValue ? Date.parse(dateValue.replace(/\([^)]*\)/g, '').trim()) : Number.NaN;
  const headers: SearchHeaders = Object.fromEntries(
    Object.entries({
      from: searchAddresses(h, 'from'),
      to: searchAddresses(h, 'to'),
      cc: searchAddresses(h, 'cc'),
      bcc: searchAddresses(h, 'bcc'),
      replyTo: searchAddresses(h, 'reply-to'),
      sender: searchAddresses(h, 'sender'),
      subject: searchValue(headerValue(h, 'subject')),
      date: searchValue(dateValue),
      messageId: searchValue(headerValue(h, 'message-id')),
      inReplyTo: searchValue(headerValue(h, 'in-reply-to')),
      references: searchValue(headerValue(h, 'references')),
      listId: searchValue(headerValue(h, 'list-id')),
    }).filter(([, v]) => v !== undefined),
  );
  return {
    v: 1,
    size,
    headerSize: root.bodyStart - root.headerStart,
    lines: root.lines,
    ...(Number.isFinite(parsedDate) ? { sentDate: parsedDate } : {}),
    hasAttachments: state.attachments,
    envelope: buildEnvelope(h),
    body,
    headers,
    ...(state.truncated ? { truncated: true as const } : {}),
  };
}

/** Incremental summary over a stream of chunks. */
export class SummaryBuilder {
  private readonly parser: MimeParser;
  private size = 0;
  constructor(limits?: MimeLimits) {
    this.parser = new MimeParser(limits);
  }
  write(chunk: Buffer): void {
    this.size += chunk.length;
    this.parser.write(chunk);
  }
  end(): MessageSummary {
    return summarize(this.parser.end(), this.size);
  }
  /** The top-level header fields (after end()). */
  headers(): HeaderField[] {
    return this.parser.root.headers;
  }
}

/** Summary of a whole buffer. */
export function summarizeBuffer(message: Buffer, limits?: MimeLimits): MessageSummary {
  const b = new SummaryBuilder(limits);
  b.write(message);
  return b.end();
}

function shiftPart(part: BodyPart, by: number, top: boolean): BodyPart {
  return {
    ...part,
    headerStart: top ? part.headerStart : part.headerStart + by,
    bodyStart: part.bodyStart + by,
    bodyEnd: part.bodyEnd + by,
    ...(part.parts ? { parts: part.parts.map((p) => shiftPart(p, by, false)) } : {}),
    ...(part.message ? { message: { ...part.message, body: shiftPart(part.message.body, by, false) } } : {}),
  };
}

/**
 * The summary of one copy, `headerPrefix + blob`: sizes and offsets move by the prefix's length, which is
 * part of the top-level header.
 */
export function forCopy(summary: MessageSummary, headerPrefix: string): MessageSummary {
  const by = Buffer.byteLength(headerPrefix);
  if (by === 0) return summary;
  return {
    ...summary,
    size: summary.size + by,
    headerSize: summary.headerSize + by,
    body: shiftPart(summary.body, by, true),
  };
}

/** JSON size guard: DynamoDB items are at most 400 KB, so an oversized structure is reduced to its top level. */
export function boundSummary(summary: MessageSummary, maxBytes = 256 * 1024): MessageSummary {
  if (Buffer.byteLength(JSON.stringify(summary)) <= maxBytes) return summary;
  const { parts: _parts, message: _message, ...top } = summary.body;
  return {
    ...summary,
    body: { ...top, type: 'application', subtype: 'octet-stream', params: {} },
    truncated: true,
  };
}
