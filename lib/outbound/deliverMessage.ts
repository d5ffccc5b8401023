/**
 * The message a queue entry sends: for a forwarded copy the ARC set, then DKIM-Signature fields (signed
 * here, in the deliver step, after every header change), the entry's header prefix, then the blob from S3. `open` gives it from its first byte each
 * time it is called, as Transport.deliver may read it more than once.
 */
import { Readable } from 'node:stream';
import type { MessageSigner, QueueEntry } from '../core/outbound.ts';
import type { BlobStore } from '../core/ports.ts';
import { MISSING_DOMAIN, parseAddressList } from '../mime/addresses.ts';
import { headerValue, parseHeaderBlock } from '../mime/headers.ts';

/** Most header bytes read to find the From of a null-sender message. */
const HEADER_READ_LIMIT = 64 * 1024;

export interface OutgoingMessage {
  readonly open: () => Promise<Readable>;
  /** Octets of the whole message, signature fields included. */
  readonly size: number;
}

/** The entry's header prefix and blob, from the first byte. */
export function openEntry(blobs: BlobStore, entry: QueueEntry, fields = ''): () => Promise<Readable> {
  const head = Buffer.from(fields + entry.headerPrefix, 'utf8');
  return async () => {
    const body = await blobs.get(entry.blobKey);
    if (head.length === 0) return body;
    return Readable.from(
      (async function* () {
        yield head;
        yield* body;
      })(),
    );
  };
}

/** The first header bytes of the entry's message (prefix and blob), up to the empty line or the limit. */
async function headerBlock(blobs: BlobStore, entry: QueueEntry): Promise<Buffer> {
  const prefix = Buffer.from(entry.headerPrefix, 'utf8');
  const body = await blobs.get(entry.blobKey, { start: 0, end: HEADER_READ_LIMIT - 1 });
  const chunks: Buffer[] = [prefix];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The domain that signs: the envelope sender's; for the null sender (a DSN), the domain of the header From
 * (the report's postmaster@ one of ours). Undefined when there is none to find.
 */
export async function signingDomain(blobs: BlobStore, entry: QueueEntry): Promise<string | undefined> {
  const at = entry.mailFrom.lastIndexOf('@');
  if (at > 0) return entry.mailFrom.slice(at + 1).toLowerCase();
  const from = headerValue(parseHeaderBlock(await headerBlock(blobs, entry)), 'from');
  const host = parseAddressList(from).find((a) => a.host && a.host !== MISSING_DOMAIN)?.host;
  return host ? host.toLowerCase() : undefined;
}

/** The message to send: signed when there is a signer and a domain to sign for, else as queued. */
export async function outgoingMessage(
  blobs: BlobStore,
  entry: QueueEntry,
  signer: MessageSigner | undefined,
): Promise<OutgoingMessage> {
  const domain = signer ? await signingDomain(blobs, entry) : undefined;
  const dkim = signer && domain ? await signer.sign(domain, openEntry(blobs, entry)) : '';
  // a forwarded copy's ARC set covers the message as sent, our DKIM-Signature included (RFC 8617 §5.1)
  const arc =
    signer?.seal && domain && entry.arcSeal
      ? await signer.seal(domain, openEntry(blobs, entry, dkim), entry.arcSeal)
      : '';
  const fields = arc + dkim;
  return { open: openEntry(blobs, entry, fields), size: entry.size + Buffer.byteLength(fields, 'utf8') };
}
