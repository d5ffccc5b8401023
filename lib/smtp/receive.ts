/**
 * The first step of every SMTP transaction: the text streams through DataPolicy into S3 under a new key, our
 * Received header first (textUpload.ts). What comes back is either an accepted message for the delivery
 * targets (lib/delivery) or the reply that refuses it; nothing is left in S3 for a refusal.
 */
import type { Readable } from 'node:stream';
import type { SmtpConfig } from '../core/config.ts';
import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { BlobStore } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import type { AcceptedMessage } from '../delivery/types.ts';
import { DataPolicy, type DataViolation } from './dataStream.ts';
import { buildReceived } from './received.ts';
import { isAscii } from './recipients.ts';
import { REPLIES, type Reply } from './replies.ts';
import { type TextUploadDeps, uploadText } from './textUpload.ts';

/** The transaction as the session saw it. */
export interface IncomingMessage {
  readonly mailFrom: string;
  readonly recipients: readonly { readonly address: string }[];
  readonly helo: string;
  readonly clientIp: string;
  readonly smtpUtf8: boolean;
  /** BODY=8BITMIME was given (RFC 6152). */
  readonly eightBit?: boolean;
  /** WITH protocol of the Received field (RFC 3848): ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS ... */
  readonly protocol: string;
  readonly tls?: { readonly version: string; readonly cipher: string };
}

/**
 * What the queue keeps of the transaction's body type for the next hop. UTF-8 header fields are 8-bit octets
 * too, so an SMTPUTF8 message is never relayed without BODY=8BITMIME (RFC 6531 §3.4).
 */
export function bodyTypeOf(msg: IncomingMessage): { eightBit: boolean; smtpUtf8: boolean } {
  return { eightBit: msg.eightBit === true || msg.smtpUtf8, smtpUtf8: msg.smtpUtf8 };
}

export interface ReceiveDeps {
  readonly hostname: string;
  readonly smtp: SmtpConfig;
  readonly blobs: BlobStore;
  readonly upload: TextUploadDeps;
}

const VIOLATION_REPLY: Record<DataViolation, Reply> = {
  size: REPLIES.messageTooBig,
  loop: REPLIES.mailLoop,
  bareLineEnding: REPLIES.bareLineEnding,
  nul: REPLIES.nulInData,
  lineTooLong: REPLIES.lineTooLong,
};

export type Received =
  | { readonly kind: 'stored'; readonly message: AcceptedMessage; readonly dataEnd: number }
  | { readonly kind: 'refused'; readonly reply: Reply; readonly dataEnd: number };

/** Streams the text into S3; `tap` sees every byte of the object (our Received, then the policed text) as it goes. */
export async function receiveText(
  deps: ReceiveDeps,
  msg: IncomingMessage,
  text: Readable,
  log: Logger,
  tap?: (chunk: Buffer) => void,
): Promise<Received> {
  const messageId = ulid();
  const blobKey = `${MESSAGE_PREFIX}${messageId}`;
  const policy = new DataPolicy({
    maxSize: deps.smtp.maxMessageSize,
    maxLineLength: deps.smtp.maxDataLineLength,
    maxReceived: deps.smtp.maxReceivedHeaders,
    authservId: deps.hostname,
    hashSeed: msg.mailFrom,
  });
  const received = receivedFor(deps.hostname, msg, messageId);
  const uploaded = await uploadText(deps.upload, text, blobKey, received, policy, tap);
  const dataEnd = Date.now();
  if (uploaded.kind === 'refused') {
    log.info('message text refused', { violation: uploaded.violation, size: policy.size, received: policy.received });
    return { kind: 'refused', reply: VIOLATION_REPLY[uploaded.violation], dataEnd };
  }
  if (uploaded.kind === 'busy') {
    log.warn('no memory for message text in flight', { size: policy.size });
    return { kind: 'refused', reply: REPLIES.busy, dataEnd };
  }
  if (uploaded.kind === 'failed') {
    log.warn('storing the message failed', { err: uploaded.err });
    return { kind: 'refused', reply: REPLIES.temporaryFailure, dataEnd };
  }
  const message: AcceptedMessage = {
    messageId,
    blobKey,
    blobSize: uploaded.size,
    mailFrom: msg.mailFrom,
    idempotencyKey: policy.digest(),
    internalDate: dataEnd,
  };
  return { kind: 'stored', message, dataEnd };
}

function receivedFor(hostname: string, msg: IncomingMessage, id: string): string {
  const single = msg.recipients.length === 1 ? msg.recipients[0].address : undefined;
  return buildReceived({
    helo: msg.helo,
    clientIp: msg.clientIp,
    by: hostname,
    protocol: msg.protocol,
    id,
    tls: msg.tls,
    recipient: single && (msg.smtpUtf8 || isAscii(single)) ? single : undefined,
    date: new Date(),
  });
}
