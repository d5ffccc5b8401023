import { Readable } from 'node:stream';
import type { BlobStore, ByteRange, MessageMeta } from './ports.ts';

/**
 * The message as clients see it: the copy's header prefix (trace headers of this delivery) followed by the
 * shared blob. A range is in those combined octets; the blob part of it becomes a ranged S3 read.
 */
export async function openMessage(blobs: BlobStore, meta: MessageMeta, range?: ByteRange): Promise<Readable> {
  const prefix = Buffer.from(meta.headerPrefix, 'utf8');
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? meta.size - 1, meta.size - 1);
  if (end < start) return Readable.from([]);
  const head = start < prefix.length ? prefix.subarray(start, Math.min(end + 1, prefix.length)) : undefined;
  const blobStart = Math.max(0, start - prefix.length);
  const blobEnd = end - prefix.length;
  if (blobEnd < blobStart) return Readable.from(head ? [head] : []);
  const whole = blobStart === 0 && blobEnd >= meta.size - prefix.length - 1;
  const body = await blobs.get(meta.blobKey, whole ? undefined : { start: blobStart, end: blobEnd });
  if (!head) return body;
  return Readable.from(
    (async function* () {
      yield head;
      yield* body;
    })(),
  );
}

/** Reads a whole (small) message into memory: tests, and IMAP parts that must be parsed. */
export async function readMessage(blobs: BlobStore, meta: MessageMeta, range?: ByteRange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openMessage(blobs, meta, range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
