/**
 * The MX side of a session: what smtp-server calls at MAIL FROM, RCPT TO and DATA. The decisions live in
 * recipients.ts (RCPT policy) and ingest.ts (the message from text to reply); this file adapts them to
 * smtp-server's callbacks and keeps each transaction's accepted recipients.
 */
import type { Readable } from 'node:stream';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import { messageDsn, recipientDsn } from './dsnParameters.ts';
import { type IngestDeps, ingest } from './ingest.ts';
import type { IncomingMessage } from './receive.ts';
import { isAscii, isReply, type Recipient, type RecipientPolicy } from './recipients.ts';
import { rejectReason } from './rejectReason.ts';
import { REPLIES, SmtpReplyError } from './replies.ts';

type Callback = (err?: Error | null) => void;

/** Forwarded copies one message may make, all its recipients together (each alias may expand to 1000). */
export const MAX_FORWARDS_PER_MESSAGE = 1000;

export interface InboundHandlers {
  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void;
  onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void;
  onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void;
}

export interface InboundDeps {
  readonly recipients: RecipientPolicy;
  readonly ingest: IngestDeps;
  readonly log: Logger;
  /** MessagesAccepted{Listener=mx}; MessagesRejected per refused recipient and per refused message. */
  readonly metrics: Metrics;
}

export function createInboundHandlers(deps: InboundDeps): InboundHandlers {
  /** Recipients per transaction: smtp-server makes a new envelope object for every transaction. */
  const accepted = new WeakMap<object, Recipient[]>();
  const sessionLog = (session: SMTPServerSession) => deps.log.child({ cid: session.id, remote: session.remoteAddress });

  const onMailFrom: InboundHandlers['onMailFrom'] = (address, _session, callback) => {
    const args = address.args || undefined;
    if (address.address && !isAscii(address.address) && !args?.SMTPUTF8) {
      callback(new SmtpReplyError(REPLIES.utf8Required));
      return;
    }
    callback();
  };

  const onRcptTo: InboundHandlers['onRcptTo'] = (address, session, callback) => {
    const log = sessionLog(session);
    deps.recipients.check(address.address, !!session.envelope.smtpUtf8).then(
      (outcome) => {
        if (isReply(outcome)) {
          log.info('recipient refused', { rcpt: address.address, code: outcome.code, enhanced: outcome.enhanced });
          deps.metrics.count('MessagesRejected', { Reason: rejectReason(outcome) });
          callback(new SmtpReplyError(outcome));
          return;
        }
        const list = accepted.get(session.envelope) ?? [];
        const forwards = list.reduce((n, r) => n + r.forward.length, outcome.forward.length);
        if (forwards > MAX_FORWARDS_PER_MESSAGE) {
          log.info('recipient refused: too many forwarded copies', { rcpt: address.address, forwards });
          deps.metrics.count('MessagesRejected', { Reason: 'policy' });
          callback(new SmtpReplyError(REPLIES.tooManyRecipients));
          return;
        }
        list.push({ ...outcome, ...recipientDsn(address) });
        accepted.set(session.envelope, list);
        callback(null);
      },
      (err) => {
        log.warn('recipient check failed', { rcpt: address.address, err });
        deps.metrics.count('MessagesRejected', { Reason: 'temp-failure' });
        callback(new SmtpReplyError(REPLIES.temporaryFailure));
      },
    );
  };

  const onData: InboundHandlers['onData'] = (stream, session, callback) => {
    const log = sessionLog(session);
    const started = Date.now();
    const message = { ...incomingMessage(session, accepted.get(session.envelope) ?? []), ...messageDsn(session) };
    ingest(deps.ingest, message, stream as Readable, log).then(
      ({ reply, dataEnd, reason }) => {
        const ms = Date.now() - dataEnd;
        if (reply.code === 250) {
          log.info('message accepted', { text: reply.text, dataToReplyMs: ms, totalMs: Date.now() - started });
          deps.metrics.count('MessagesAccepted', { Listener: 'mx' });
          callback(null, `${reply.enhanced} ${reply.text}`);
        } else {
          log.info('message refused', { code: reply.code, enhanced: reply.enhanced, dataToReplyMs: ms });
          deps.metrics.count('MessagesRejected', { Reason: reason ?? rejectReason(reply) });
          callback(new SmtpReplyError(reply));
        }
      },
      (err) => {
        log.warn('message failed', { err });
        deps.metrics.count('MessagesRejected', { Reason: 'temp-failure' });
        callback(new SmtpReplyError(REPLIES.temporaryFailure));
      },
    );
  };

  return { onMailFrom, onRcptTo, onData };
}

/** The transaction's facts for the Received field and the filter. */
export function incomingMessage<R extends { readonly address: string }>(
  session: SMTPServerSession,
  recipients: readonly R[],
): IncomingMessage & { readonly recipients: readonly R[] } {
  const { envelope } = session;
  const smtpUtf8 = !!envelope.smtpUtf8;
  const tls = session.secure && session.tlsOptions ? session.tlsOptions : undefined;
  return {
    mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    recipients,
    helo: session.hostNameAppearsAs || '',
    clientIp: session.remoteAddress,
    smtpUtf8,
    eightBit: envelope.bodyType === '8bitmime',
    protocol: smtpUtf8 ? `UTF8SMTP${session.secure ? 'S' : ''}` : session.transmissionType || 'ESMTP',
    tls: tls ? { version: tls.version, cipher: tls.name } : undefined,
  };
}
