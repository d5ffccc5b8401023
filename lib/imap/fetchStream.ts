/**
 * How FETCH responses reach the socket: each message's response is a list of segments (fetchResponse), its
 * literals filled from ranged reads of the message (or a BINARY part's decoded octets). The reads of the
 * next few messages are opened while one is written, so storage latency overlaps the client's reading;
 * every write waits for the socket (backpressure), so memory stays at a few open reads however large the
 * answer.
 */
import type { Readable } from 'node:stream';
import type { MessageMeta } from '../core/ports.ts';
import { type BinaryPart, openDecoded } from './binary.ts';
import type { Segment } from './codec/index.ts';
import type { OctetRange } from './sections.ts';
import type { ImapSession } from './session.ts';

/** What a streamed literal is filled from: a range of one message, or a BINARY part's decoded octets from `skip`. */
export interface BodySource {
  readonly meta: MessageMeta;
  readonly range: OctetRange;
  readonly decoded?: { readonly part: BinaryPart; readonly skip: number };
}

/** Responses prepared (index read, storage reads opened) ahead of the one being written. */
export const LOOKAHEAD = 4;

/** One message's response, its literals' reads already under way (undefined for an empty literal). */
export interface PreparedResponse {
  readonly segments: readonly Segment<BodySource>[];
  readonly reads: readonly (Promise<Readable> | undefined)[];
}

function openSource(session: ImapSession, source: BodySource, length: number): Promise<Readable> {
  const { meta, range, decoded } = source;
  if (decoded) return openDecoded(session.backend, meta, decoded.part);
  return session.backend.openMessage(meta, { start: range.start, end: range.start + length - 1 });
}

/** Starts the reads of a response's literals. */
export function prepareResponse(session: ImapSession, segments: readonly Segment<BodySource>[]): PreparedResponse {
  const reads = segments.flatMap((seg) => {
    if (Buffer.isBuffer(seg)) return [];
    if (seg.length === 0) return [undefined];
    const read = openSource(session, seg.source, seg.length);
    read.catch(() => {}); // answered when its turn comes
    return [read];
  });
  return { segments, reads };
}

/**
 * Writes a prepared response in order. Every read is open before the first octet goes out, so a message
 * whose blob is gone (MessageGoneError) is refused whole; a short or failed read after that ends the
 * connection (half a literal is out).
 */
export async function writeResponse(session: ImapSession, response: PreparedResponse): Promise<void> {
  const opened = await Promise.allSettled(response.reads.map((r) => r ?? Promise.resolve(undefined)));
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) {
    for (const o of opened) if (o.status === 'fulfilled') o.value?.destroy();
    throw failed.reason;
  }
  const streams = opened.map((o) => (o as PromiseFulfilledResult<Readable | undefined>).value);
  let k = 0;
  try {
    for (const seg of response.segments) {
      if (Buffer.isBuffer(seg)) {
        await session.write(seg);
        continue;
      }
      const stream = streams[k++];
      if (stream) await pipeExactly(session, stream, seg.source, seg.length);
    }
  } finally {
    for (const later of streams.slice(k)) later?.destroy();
  }
}

/** A prepared response that will not be written: its reads are closed. */
export function dropResponse(response: PreparedResponse): void {
  for (const read of response.reads)
    void read?.then(
      (s) => s.destroy(),
      () => {},
    );
}

async function pipeExactly(session: ImapSession, stream: Readable, source: BodySource, length: number): Promise<void> {
  let skip = source.decoded?.skip ?? 0;
  let sent = 0;
  try {
    for await (let chunk of stream as AsyncIterable<Buffer>) {
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.length);
        chunk = chunk.subarray(dropped);
        skip -= dropped;
      }
      const part = chunk.subarray(0, length - sent);
      sent += part.length;
      if (part.length > 0) await session.write(part);
      // A ranged read ends by itself; reading it to its end lets the storage connection be reused (destroying
      // a response midway closes it). Only a decoded part read for a partial range stops early.
      if (sent >= length && source.decoded) break;
    }
  } finally {
    stream.destroy();
  }
  if (sent < length) throw new Error(`message ${source.meta.uid} shorter than its index says (${sent} < ${length})`);
}
