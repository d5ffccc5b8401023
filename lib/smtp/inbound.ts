/**
 * The MX side of a session: what smtp-server calls at MAIL FROM, RCPT TO and DATA.
 *
 * RCPT TO asks the route function (cached briefly), refuses relaying (554 5.7.1), unknown users (550 5.1.1),
 * accounts at or over quota (452 4.2.2) and non-ASCII addresses without SMTPUTF8 (553 5.6.7).
 *
 * DATA (DESIGN.md rules 1 and 2):
 * 1. The text streams through DataPolicy (smuggling, size, line, loop checks) into S3 under a new key, our
 *    Received header first. Nothing is held whole in memory; S3's pace holds the client back (backpressure).
 * 2. The filter function reads the object by key and returns the verdict, header fields and IMAP summary.
 * 3. The store function appends one copy per recipient account, each with its own header prefix.
 * 4. Only then 250. Any failure of S3, the index or a function answers 451 4.3.0.
 *
 * Exactly once: the store's idempotency key is the SHA-256 of the envelope sender and the message text as
 * the client sent it. The store step is retried (storeAttempts) with the same key; and when the transaction
 * still fails, the client's own retry of the same message carries the same key, so recipients that already
 * have their copy are skipped and the others get theirs: one copy per recipient whatever failed where.
 * (Two deliveries of byte-identical text from the same sender within the idempotency window, 14 days, are
 * the same message; the Message-ID and trace fields of real mail make that so.)
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import type { GatewayDeps } from '../gateway/types.ts';
import type {
  FilterRequest,
  FilterResult,
  RoutedAccount,
  RouteRequest,
  RouteResult,
  StoreRequest,
  StoreResult,
} from '../pipeline/contracts.ts';
import { DataPolicy, type DataViolation } from './dataStream.ts';
import type { SmtpOptions } from './options.ts';
import { buildReceived } from './received.ts';
import { acceptedReply, REPLIES, type Reply, SmtpReplyError } from './replies.ts';
import { StoreBatcher } from './storeBatcher.ts';

/** One accepted recipient of the transaction. */
interface Recipient {
  readonly address: string;
  readonly accounts: readonly RoutedAccount[];
}

type Callback = (err?: Error | null) => void;

const VIOLATION_REPLY: Record<DataViolation, Reply> = {
  size: REPLIES.messageTooBig,
  loop: REPLIES.mailLoop,
  bareLineEnding: REPLIES.bareLineEnding,
  nul: REPLIES.nulInData,
  lineTooLong: REPLIES.lineTooLong,
};

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

class RouteCache {
  private readonly entries = new Map<string, { at: number; result: RouteResult }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}
  get(key: string): RouteResult | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (Date.now() - hit.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.result;
  }
  set(key: string, result: RouteResult): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: Date.now(), result });
  }
}

export interface InboundHandlers {
  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void;
  onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void;
  onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void;
}

export function createInboundHandlers(deps: GatewayDeps, tuning: SmtpOptions, baseLog: Logger): InboundHandlers {
  const { config, storage, invoker } = deps;
  const routes = new RouteCache(tuning.routeCacheMs);
  const batcher = new StoreBatcher(invoker);
  /** Recipients per transaction: smtp-server makes a new envelope object for every transaction. */
  const recipients = new WeakMap<object, Recipient[]>();
  const sessionLog = (session: SMTPServerSession) => baseLog.child({ cid: session.id, remote: session.remoteAddress });

  const routeOf = async (address: string): Promise<RouteResult> => {
    const key = address.toLowerCase();
    const cached = routes.get(key);
    if (cached) return cached;
    const result = await invoker.invoke<RouteRequest, RouteResult>('route', {
      recipient: address,
      hostname: config.hostname,
    });
    routes.set(key, result);
    return result;
  };

  const rcpt = async (address: SMTPServerAddress, session: SMTPServerSession): Promise<Reply | undefined> => {
    if (!isAscii(address.address) && !session.envelope.smtpUtf8) return REPLIES.utf8Required;
    const result = await routeOf(address.address);
    switch (result.kind) {
      case 'invalid':
        return { code: 501, enhanced: '5.1.3', text: 'Bad recipient address syntax' };
      case 'not-local':
        return REPLIES.relayDenied;
      case 'unknown-user':
        return REPLIES.unknownUser;
    }
    if (result.remote.length > 0) return REPLIES.forwardingUnsupported;
    for (const account of result.accounts) {
      if (account.quotaBytes <= 0) continue;
      const usage = await storage.mail.getUsage(account.accountId);
      if (usage.bytes >= account.quotaBytes) return REPLIES.mailboxFull;
    }
    const list = recipients.get(session.envelope) ?? [];
    list.push({ address: address.address, accounts: result.accounts });
    recipients.set(session.envelope, list);
    return undefined;
  };

  const onRcptTo: InboundHandlers['onRcptTo'] = (address, session, callback) => {
    const log = sessionLog(session);
    rcpt(address, session).then(
      (reply) => {
        if (reply) log.info('recipient refused', { rcpt: address.address, code: reply.code, enhanced: reply.enhanced });
        callback(reply ? new SmtpReplyError(reply) : null);
      },
      (err) => {
        log.warn('recipient check failed', { rcpt: address.address, err });
        callback(new SmtpReplyError(REPLIES.temporaryFailure));
      },
    );
  };

  const onMailFrom: InboundHandlers['onMailFrom'] = (address, _session, callback) => {
    const args = address.args || undefined;
    if (address.address && !isAscii(address.address) && !args?.SMTPUTF8) {
      callback(new SmtpReplyError(REPLIES.utf8Required));
      return;
    }
    callback();
  };

  const onData: InboundHandlers['onData'] = (stream, session, callback) => {
    const log = sessionLog(session);
    const started = Date.now();
    receive(stream, session, log).then(
      ({ reply, dataEnd }) => {
        const ms = Date.now() - dataEnd;
        if (reply.code === 250) {
          log.info('message accepted', { text: reply.text, dataToReplyMs: ms, totalMs: Date.now() - started });
          callback(null, `${reply.enhanced} ${reply.text}`);
        } else {
          log.info('message refused', { code: reply.code, enhanced: reply.enhanced, dataToReplyMs: ms });
          callback(new SmtpReplyError(reply));
        }
      },
      (err) => {
        log.warn('message failed', { err });
        callback(new SmtpReplyError(REPLIES.temporaryFailure));
      },
    );
  };

  /** Receives the text into S3 and runs filter and store; resolves with the reply for the client. */
  const receive = async (
    stream: Readable,
    session: SMTPServerSession,
    log: Logger,
  ): Promise<{ reply: Reply; dataEnd: number }> => {
    const envelope = session.envelope;
    const list = recipients.get(envelope) ?? [];
    const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
    const messageId = ulid();
    const blobKey = `${MESSAGE_PREFIX}${messageId}`;
    const smtpUtf8 = !!envelope.smtpUtf8;
    const single = list.length === 1 ? list[0].address : undefined;
    const tls = session.secure && session.tlsOptions ? session.tlsOptions : undefined;
    const received = buildReceived({
      helo: session.hostNameAppearsAs || '',
      clientIp: session.remoteAddress,
      by: config.hostname,
      protocol: smtpUtf8 ? `UTF8SMTP${session.secure ? 'S' : ''}` : session.transmissionType || 'ESMTP',
      id: messageId,
      tls: tls ? { version: tls.version, cipher: tls.name } : undefined,
      recipient: single && (smtpUtf8 || isAscii(single)) ? single : undefined,
      date: new Date(),
    });
    const policy = new DataPolicy({
      maxSize: config.maxMessageSize,
      maxLineLength: tuning.maxDataLineLength,
      maxReceived: tuning.maxReceivedHeaders,
      authservId: config.hostname,
      hashSeed: mailFrom,
    });

    // 1. stream into S3 as it arrives
    const upload = new PassThrough({ highWaterMark: 64 * 1024 });
    upload.write(received);
    let putError: unknown;
    let putSize = 0;
    const putDone = storage.blobs.put(blobKey, upload).then(
      (r) => {
        putSize = r.size;
      },
      (err) => {
        putError = err ?? new Error('upload failed');
      },
    );
    const abortUpload = () => {
      if (!upload.destroyed) upload.destroy(new Error('message refused'));
    };
    const write = async (bufs: Buffer[]) => {
      for (const b of bufs) {
        if (putError !== undefined || upload.destroyed) return;
        if (!upload.write(b)) {
          const ac = new AbortController();
          await Promise.race([once(upload, 'drain', { signal: ac.signal }).catch(() => {}), putDone]);
          ac.abort();
        }
      }
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const out = policy.push(chunk);
        if (policy.violation) abortUpload();
        else await write(out);
      }
    } catch (err) {
      abortUpload();
      await putDone;
      throw err; // the client went away in the middle of the text
    }
    const dataEnd = Date.now();
    const tail = policy.end();
    if (policy.violation) {
      abortUpload();
      await putDone;
      if (putError === undefined) void storage.blobs.delete(blobKey).catch(() => {});
      log.info('message text refused', { violation: policy.violation, size: policy.size, received: policy.received });
      return { reply: VIOLATION_REPLY[policy.violation], dataEnd };
    }
    await write(tail);
    upload.end();
    await putDone;
    if (putError !== undefined) {
      log.warn('storing the message failed', { err: putError });
      return { reply: REPLIES.temporaryFailure, dataEnd };
    }
    const blobSize = putSize;
    const idempotencyKey = policy.digest();
    const timing = { putMs: Date.now() - dataEnd, filterMs: 0, storeMs: 0 };
    let phase = Date.now();

    // 2. filter
    let verdict: FilterResult;
    try {
      verdict = await invoker.invoke<FilterRequest, FilterResult>('filter', {
        messageId,
        blobKey,
        blobSize,
        mailFrom,
        helo: session.hostNameAppearsAs || '',
        clientIp: session.remoteAddress,
        recipients: list.map((r) => r.address),
        authservId: config.hostname,
      });
    } catch (err) {
      log.warn('filter failed', { err });
      void storage.blobs.delete(blobKey).catch(() => {});
      return { reply: REPLIES.temporaryFailure, dataEnd };
    }
    timing.filterMs = Date.now() - phase;
    phase = Date.now();
    if (verdict.action === 'reject') {
      void storage.blobs.delete(blobKey).catch(() => {});
      return { reply: verdict.reply ?? REPLIES.spam, dataEnd };
    }

    // 3. store, one copy per account (an account reached through several recipients gets one copy)
    const deliveries: StoreRequest['deliveries'][number][] = [];
    const seen = new Set<string>();
    for (const r of list) {
      for (const account of r.accounts) {
        if (seen.has(account.accountId)) continue;
        seen.add(account.accountId);
        const original = r.address.toLowerCase() !== account.address ? `X-Original-To: ${r.address}\r\n` : '';
        deliveries.push({
          accountId: account.accountId,
          mailbox: verdict.mailbox,
          headerPrefix: `Return-Path: <${mailFrom}>\r\nDelivered-To: ${account.address}\r\n${original}${verdict.headers}`,
        });
      }
    }
    const request: StoreRequest = {
      messageId,
      idempotencyKey,
      blobKey,
      blobSize,
      internalDate: dataEnd,
      summary: verdict.summary,
      deliveries,
    };
    let result: StoreResult | undefined;
    for (let attempt = 0; attempt < Math.max(1, tuning.storeAttempts); attempt++) {
      if (attempt > 0) await sleep(tuning.retryDelayMs * 2 ** (attempt - 1));
      try {
        const stored = await batcher.store(request);
        // a storage failure inside a batch is this request's alone: retry it like a failed invocation
        if (stored.failed.some((f) => f.reason === 'temporary')) throw new Error('store failed for a recipient');
        result = stored;
        break;
      } catch (err) {
        log.warn('store failed', { attempt: attempt + 1, err });
      }
    }
    timing.storeMs = Date.now() - phase;
    // the blob may already back some copies: it is kept whatever happens from here
    if (!result) return { reply: REPLIES.temporaryFailure, dataEnd };
    if (result.failed.some((f) => f.reason === 'quota')) return { reply: REPLIES.mailboxFull, dataEnd };
    if (result.failed.length > 0) return { reply: REPLIES.temporaryFailure, dataEnd };
    if (result.delivered.length > 0 && result.delivered.every((d) => d.blobKey !== blobKey)) {
      // every copy already existed, served from an earlier transaction's object: this one is unused
      void storage.blobs.delete(blobKey).catch(() => {});
    }
    log.info('delivered', {
      id: messageId,
      size: blobSize,
      mailbox: verdict.mailbox,
      spam: verdict.spam.score,
      copies: result.delivered.length,
      duplicates: result.delivered.filter((d) => d.duplicate).length,
      ...timing,
    });
    return { reply: acceptedReply(messageId), dataEnd };
  };

  return { onMailFrom, onRcptTo, onData };
}
