/**
 * One message from the client's text to the reply (DESIGN.md rules 1 and 2):
 * 1. the text streams through DataPolicy into S3 under a new key, our Received header first (textUpload.ts);
 * 2. the filter function reads the object by key and returns the verdict, header fields and IMAP summary;
 * 3. the store function appends one copy per recipient account, each with its own header prefix (copies.ts),
 *    retried with the same idempotency key (storeRetry.ts);
 * 4. only then 250. Any failure of S3, the index or a function answers 451.
 *
 * Exactly once: the store's idempotency key is the SHA-256 of the envelope sender and the message text as
 * the client sent it. The store step is retried with the same key; and when the transaction still fails, the
 * client's own retry of the same message carries the same key, so recipients that already have their copy
 * are skipped and the others get theirs: one copy per recipient whatever failed where. (Two deliveries of
 * byte-identical text from the same sender within the idempotency window, 14 days, are the same message;
 * the Message-ID and trace fields of real mail make that so.)
 */
import type { Readable } from 'node:stream';
import type { SmtpConfig } from '../core/config.ts';
import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { BlobStore, Invoker } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import type { FilterRequest, FilterResult, StoreRequest } from '../pipeline/contracts.ts';
import { deliveriesFor } from './copies.ts';
import { DataPolicy, type DataViolation } from './dataStream.ts';
import { buildReceived } from './received.ts';
import { isAscii, type Recipient } from './recipients.ts';
import { acceptedReply, REPLIES, type Reply } from './replies.ts';
import type { StoreBatcher } from './storeBatcher.ts';
import { storeWithRetries } from './storeRetry.ts';
import { type TextUploadDeps, uploadText } from './textUpload.ts';

/** The transaction as the session saw it. */
export interface IncomingMessage {
  readonly mailFrom: string;
  readonly recipients: readonly Recipient[];
  readonly helo: string;
  readonly clientIp: string;
  readonly smtpUtf8: boolean;
  /** WITH protocol of the Received field (RFC 3848): ESMTP, ESMTPS, UTF8SMTPS ... */
  readonly protocol: string;
  readonly tls?: { readonly version: string; readonly cipher: string };
}

export interface IngestDeps {
  readonly hostname: string;
  readonly smtp: SmtpConfig;
  readonly invoker: Invoker;
  readonly blobs: BlobStore;
  readonly batcher: StoreBatcher;
  readonly upload: TextUploadDeps;
}

const VIOLATION_REPLY: Record<DataViolation, Reply> = {
  size: REPLIES.messageTooBig,
  loop: REPLIES.mailLoop,
  bareLineEnding: REPLIES.bareLineEnding,
  nul: REPLIES.nulInData,
  lineTooLong: REPLIES.lineTooLong,
};

export interface IngestOutcome {
  readonly reply: Reply;
  /** When the last byte of text arrived (the reply's latency is measured from here). */
  readonly dataEnd: number;
}

/** Receives, filters and stores one message; resolves with the reply for the client. */
export async function ingest(
  deps: IngestDeps,
  msg: IncomingMessage,
  text: Readable,
  log: Logger,
): Promise<IngestOutcome> {
  const messageId = ulid();
  const blobKey = `${MESSAGE_PREFIX}${messageId}`;
  const discard = () => void deps.blobs.delete(blobKey).catch(() => {});
  const policy = new DataPolicy({
    maxSize: deps.smtp.maxMessageSize,
    maxLineLength: deps.smtp.maxDataLineLength,
    maxReceived: deps.smtp.maxReceivedHeaders,
    authservId: deps.hostname,
    hashSeed: msg.mailFrom,
  });
  const uploaded = await uploadText(deps.upload, text, blobKey, receivedFor(deps.hostname, msg, messageId), policy);
  const dataEnd = Date.now();
  if (uploaded.kind === 'refused') {
    log.info('message text refused', { violation: uploaded.violation, size: policy.size, received: policy.received });
    return { reply: VIOLATION_REPLY[uploaded.violation], dataEnd };
  }
  if (uploaded.kind === 'busy') {
    log.warn('no memory for message text in flight', { size: policy.size });
    return { reply: REPLIES.busy, dataEnd };
  }
  if (uploaded.kind === 'failed') {
    log.warn('storing the message failed', { err: uploaded.err });
    return { reply: REPLIES.temporaryFailure, dataEnd };
  }
  const blobSize = uploaded.size;
  const timing = { putMs: Date.now() - dataEnd, filterMs: 0, storeMs: 0 };
  let phase = Date.now();

  let verdict: FilterResult;
  try {
    verdict = await deps.invoker.invoke<FilterRequest, FilterResult>('filter', {
      messageId,
      blobKey,
      blobSize,
      mailFrom: msg.mailFrom,
      helo: msg.helo,
      clientIp: msg.clientIp,
      recipients: msg.recipients.map((r) => r.address),
      authservId: deps.hostname,
    });
  } catch (err) {
    log.warn('filter failed', { err });
    discard();
    return { reply: REPLIES.temporaryFailure, dataEnd };
  }
  timing.filterMs = Date.now() - phase;
  phase = Date.now();
  if (verdict.action === 'reject') {
    discard();
    return { reply: verdict.reply ?? REPLIES.spam, dataEnd };
  }

  const request: StoreRequest = {
    messageId,
    idempotencyKey: policy.digest(),
    blobKey,
    blobSize,
    internalDate: dataEnd,
    summary: verdict.summary,
    deliveries: deliveriesFor(msg.recipients, msg.mailFrom, verdict),
  };
  const stored = await storeWithRetries(
    deps.batcher,
    request,
    { attempts: deps.smtp.storeAttempts, retryDelayMs: deps.smtp.retryDelayMs },
    log,
  );
  timing.storeMs = Date.now() - phase;
  // the blob may already back some copies: it is kept whatever happens from here
  if (!stored) return { reply: REPLIES.temporaryFailure, dataEnd };
  if (stored.failed.some((f) => f.reason === 'quota')) return { reply: REPLIES.mailboxFull, dataEnd };
  if (stored.failed.length > 0) return { reply: REPLIES.temporaryFailure, dataEnd };
  if (stored.delivered.length > 0 && stored.delivered.every((d) => d.blobKey !== blobKey)) {
    discard(); // every copy already existed, served from an earlier transaction's object: this one is unused
  }
  log.info('delivered', {
    id: messageId,
    size: blobSize,
    mailbox: verdict.mailbox,
    spam: verdict.spam.score,
    copies: stored.delivered.length,
    duplicates: stored.delivered.filter((d) => d.duplicate).length,
    ...timing,
  });
  return { reply: acceptedReply(messageId), dataEnd };
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
