/**
 * ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2) from the summary stored at delivery
 * (lib/mime/summary.ts). BODY is BODYSTRUCTURE without extension data.
 */
import type { EnvelopeAddress } from '../../mime/addresses.ts';
import { type BodyPart, EMPTY_ENVELOPE, type Envelope } from '../../mime/summary.ts';
import { concat, list, NIL, nstr, num, str, type Value } from './encode.ts';

/** RFC 3501 §9 `env-from = "(" 1*address ")"`: addresses back to back, no SP between them. */
function addressList(addresses: readonly EnvelopeAddress[] | null): Value {
  if (addresses === null || addresses.length === 0) return NIL;
  return list([concat(addresses.map((a) => list([nstr(a.name), nstr(a.adl), nstr(a.mailbox), nstr(a.host)])))]);
}

/** envelope = "(" date SP subject SP from SP sender SP reply-to SP to SP cc SP bcc SP in-reply-to SP message-id ")" */
export function envelopeValue(env: Envelope): Value {
  return list([
    nstr(env.date),
    nstr(env.subject),
    addressList(env.from),
    addressList(env.sender),
    addressList(env.replyTo),
    addressList(env.to),
    addressList(env.cc),
    addressList(env.bcc),
    nstr(env.inReplyTo),
    nstr(env.messageId),
  ]);
}

/** Stands in for a body the summary does not describe (a truncated multipart has no parts). */
const PLACEHOLDER_PART: BodyPart = {
  type: 'text',
  subtype: 'plain',
  params: { charset: 'us-ascii' },
  id: null,
  description: null,
  encoding: '7BIT',
  size: 0,
  lines: 0,
  md5: null,
  disposition: null,
  language: null,
  location: null,
  headerStart: 0,
  bodyStart: 0,
  bodyEnd: 0,
};

/** body-fld-param: NIL or ("NAME" "value" ...). */
function params(p: Readonly<Record<string, string>>): Value {
  const entries = Object.entries(p);
  if (entries.length === 0) return NIL;
  return list(entries.flatMap(([k, v]) => [str(k.toUpperCase()), str(v)]));
}

function disposition(d: BodyPart['disposition']): Value {
  return d === null ? NIL : list([str(d.type.toUpperCase()), params(d.params)]);
}

function language(l: readonly string[] | null): Value {
  return l === null || l.length === 0 ? NIL : list(l.map(str));
}

/**
 * body-type-msg: message/rfc822, and message/global where RFC 9051 §7.5.2 treats it alike (IMAP4rev2; with
 * UTF8=ACCEPT RFC 6855's successor allows either). For IMAP4rev1 (RFC 3501 §9 media-message) it is basic.
 */
const isMessage = (p: BodyPart, global: boolean): boolean =>
  p.type === 'message' && (p.subtype === 'rfc822' || (global && p.subtype === 'global'));

function singlePart(part: BodyPart, extensible: boolean, global: boolean): Value {
  const values: Value[] = [
    str(part.type.toUpperCase()),
    str(part.subtype.toUpperCase()),
    params(part.params),
    nstr(part.id),
    nstr(part.description),
    str(part.encoding),
    num(part.size),
  ];
  if (isMessage(part, global)) {
    // body-type-msg: the grammar needs an envelope and a body even when the summary did not look inside
    const inner = part.message ?? { envelope: EMPTY_ENVELOPE, body: PLACEHOLDER_PART };
    values.push(envelopeValue(inner.envelope), bodyValue(inner.body, extensible, global), num(part.lines ?? 0));
  } else if (part.type === 'text') values.push(num(part.lines ?? 0));
  if (extensible) {
    values.push(nstr(part.md5), disposition(part.disposition), language(part.language), nstr(part.location));
  }
  return list(values);
}

function multiPart(part: BodyPart, extensible: boolean, global: boolean): Value {
  const children = part.parts && part.parts.length > 0 ? part.parts : [PLACEHOLDER_PART];
  const bodies = concat(children.map((c) => bodyValue(c, extensible, global)));
  const values: Value[] = [bodies, str(part.subtype.toUpperCase())];
  if (extensible) {
    values.push(params(part.params), disposition(part.disposition), language(part.language), nstr(part.location));
  }
  return list(values);
}

/** BODYSTRUCTURE when `extensible`, else BODY; `global`: message/global as message/rfc822. */
export function bodyValue(part: BodyPart, extensible: boolean, global = true): Value {
  return part.type === 'multipart' ? multiPart(part, extensible, global) : singlePart(part, extensible, global);
}
