/**
 * ENVELOPE and BODYSTRUCTURE of a message from its stored summary. A message stored without one (an
 * import, a summary that failed) gets an empty envelope and one text/plain part of its size, which still
 * fits the grammar.
 */
import type { MessageMeta } from '../core/ports.ts';
import { type BodyPart, EMPTY_ENVELOPE, type Envelope } from '../mime/summary.ts';

export function envelopeOf(meta: MessageMeta): Envelope {
  return meta.summary?.envelope ?? EMPTY_ENVELOPE;
}

export function structureOf(meta: MessageMeta): BodyPart {
  if (meta.summary) return meta.summary.body;
  return {
    type: 'text',
    subtype: 'plain',
    params: {},
    id: null,
    description: null,
    encoding: '7bit',
    size: meta.size,
    lines: 0,
    md5: null,
    disposition: null,
    language: null,
    location: null,
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: meta.size,
  };
}
