/**
 * Where a BODY[section] (RFC 9051 §6.4.5) lies in the message as clients see it (header prefix + blob),
 * found from the stored summary's part offsets, so a part is a ranged read and never a parse of the body.
 */
import type { MessageMeta } from '../core/ports.ts';
import type { BodyPart } from '../mime/summary.ts';
import type { Section } from './codec/index.ts';

/** Octets [start, end) of the message. */
export interface OctetRange {
  readonly start: number;
  readonly end: number;
}

/** Header fields are read into memory to pick fields: a header larger than this is refused. */
export const MAX_FILTERED_HEADER = 256 * 1024;

/** One step down a part path: a multipart's n-th part, or a message's (or encapsulated message's) body. */
function step(part: BodyPart, n: number, isRoot: boolean): BodyPart | undefined {
  // Inside message/rfc822, numbers address the encapsulated message's parts (RFC 9051 §6.4.5).
  const body = !isRoot && part.message ? part.message.body : part;
  if (body.parts) return body.parts[n - 1];
  // A non-multipart message has one part, 1: its body.
  if (n === 1 && (isRoot || body !== part)) return body;
  return undefined;
}

/** The part a section's numbers name; undefined when there is none. */
export function partAt(root: BodyPart, numbers: readonly number[]): BodyPart | undefined {
  let part: BodyPart | undefined = root;
  numbers.forEach((n, i) => {
    part = part && step(part, n, i === 0);
  });
  return part;
}

/**
 * The octets of a section, or undefined for a section that does not exist. `shift` moves offsets from the
 * summary's view to the served one, for summaries made of the blob alone.
 */
export function sectionRange(meta: MessageMeta, section: Section): OctetRange | undefined {
  const summary = meta.summary;
  const whole = { start: 0, end: meta.size };
  const shift = summary ? meta.size - summary.size : 0;
  const headerEnd = summary ? summary.headerSize + shift : undefined;
  if (section.part.length === 0) {
    if (!section.text) return whole;
    if (headerEnd === undefined) return undefined;
    if (section.text === 'TEXT') return { start: headerEnd, end: meta.size };
    return { start: 0, end: headerEnd };
  }
  if (!summary) return undefined;
  const part = partAt(summary.body, section.part);
  if (!part) return undefined;
  const at = (o: number) => (o === 0 && part === summary.body ? 0 : o + shift);
  switch (section.text) {
    case undefined:
      return { start: part.bodyStart + shift, end: part.bodyEnd + shift };
    case 'MIME':
      return { start: at(part.headerStart), end: part.bodyStart + shift };
    default: {
      const inner = part.message?.body;
      if (!inner) return undefined;
      if (section.text === 'TEXT') return { start: inner.bodyStart + shift, end: inner.bodyEnd + shift };
      return { start: inner.headerStart + shift, end: inner.bodyStart + shift };
    }
  }
}

/** RFC 9051 §6.4.5 HEADER.FIELDS / HEADER.FIELDS.NOT: the matching fields and the blank line that ends them. */
export function filterHeader(header: Buffer, fields: readonly string[], not: boolean): Buffer {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const text = header.toString('latin1');
  const lines = text.split(/(?<=\r?\n)/);
  const out: string[] = [];
  let keep = false;
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if (line[0] !== ' ' && line[0] !== '\t') {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
      keep = wanted.has(name) !== not && name !== '';
    }
    if (keep) out.push(line);
  }
  out.push('\r\n');
  return Buffer.from(out.join(''), 'latin1');
}
