/**
 * The submission side of a session (587 STARTTLS, 465 implicit TLS; RFC 6409): what smtp-server calls at
 * AUTH, MAIL FROM, RCPT TO and DATA. The client must authenticate (smtp-server answers MAIL before AUTH with
 * 530 5.7.0, and AUTH before TLS with 538 unless plaintext is allowed); then it may send only as its own
 * addresses (senderIdentity.ts), within its limits, to local recipients (stored at once) and remote ones (the
 * outbound queue). The text goes through the same receive step and delivery targets as MX mail, without the
 * spam filter (the sender is known), and with Date and Message-ID added in front when missing.
 */
import type { Readable } from 'node:stream';
import type { SMTPServerAuthentication, SMTPServerSession } from 'smtp-server';
import type { Authenticator } from '../auth/authenticator.ts';
import type { HourlyTokens } from '../auth/hourlyTokens.ts';
import type { SubmissionConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { OutboundQueue, SystemMailSender } from '../core/outbound.ts';
import type { LocalStoreDeps } from '../delivery/localTarget.ts';
import type { RemoteRecipient } from '../delivery/types.ts';
import { messageDsn, recipientDsn } from './dsnParameters.ts';
import { type InboundHandlers, incomingMessage } from './inbound.ts';
import type { NotifiableLocalRecipient } from './localSuccessDsn.ts';
import type { ReceiveDeps } from './receive.ts';
import { isAscii, isRemote, isReply, type RecipientPolicy } from './recipients.ts';
import { rejectReason } from './rejectReason.ts';
import { REPLIES, type Reply, SmtpReplyError } from './replies.ts';
import { mayUseAddress, type SenderIdentityDeps, type SubmitterAccount } from './senderIdentity.ts';
import { submitMessage } from './submit.ts';

type Callback = (err?: Error | null) => void;
type AuthCallback = (err: Error | null | undefined, response?: { user?: SubmitterAccount }) => void;

export interface SubmissionHandlers extends InboundHandlers {
  onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: AuthCallback): void;
}

export interface SubmissionDeps {
  readonly hostname: string;
  readonly limits: SubmissionConfig;
  readonly authenticator: Authenticator;
  readonly recipients: RecipientPolicy;
  readonly identity: SenderIdentityDeps;
  /**
   * Messages per hour per account: checked at MAIL FROM, spent when a message is accepted (a refused
   * transaction costs nothing); per process, like the login throttle.
   */
  readonly rate: HourlyTokens;
  readonly receive: ReceiveDeps;
  readonly local: LocalStoreDeps;
  /** Absent until the queue adapter is wired: remote recipients are then refused with 451 4.3.2. */
  readonly queue?: OutboundQueue;
  /** Called after a message was enqueued (not for a duplicate): starts the queue's deliver step. */
  readonly onEnqueued?: () => void;
  /** Sends the "delivered" DSNs of local recipients (NOTIFY=SUCCESS); absent: none is sent. */
  readonly systemMail?: SystemMailSender;
  readonly log: Logger;
  /** MessagesAccepted{Listener=submission}; MessagesRejected per refused MAIL, RCPT and message. */
  readonly metrics: Metrics;
}

/** The transaction's recipients: local ones for the store, remote ones for the queue. */
interface Transaction {
  readonly local: NotifiableLocalRecipient[];
  readonly remote: RemoteRecipient[];
}

export function createSubmissionHandlers(deps: SubmissionDeps): SubmissionHandlers {
  const transactions = new WeakMap<object, Transaction>();
  const fail = (callback: Callback, reply: Reply) => {
    deps.metrics.count('MessagesRejected', { Reason: rejectReason(reply) });
    callback(new SmtpReplyError(reply));
  };
  const sessionLog = (session: SMTPServerSession) =>
    deps.log.child({ cid: session.id, remote: session.remoteAddress, account: userOf(session)?.accountId });

  const onAuth: SubmissionHandlers['onAuth'] = (auth, session, callback) => {
    const log = sessionLog(session);
    const username = auth.username ?? '';
    const password = auth.password ?? '';
    // RFC 4616 §2: an authorization identity other than the authentication identity is a proxy login: refused
    if (auth.method === 'PLAIN' && auth.authzid && auth.authcid && auth.authzid !== auth.authcid) {
      callback(new SmtpReplyError(REPLIES.authFailed));
      return;
    }
    deps.authenticator.authenticate({ username, password, remoteAddress: session.remoteAddress }).then(
      (result) => {
        if (result.ok) {
          log.info('authenticated', { accountId: result.account.accountId, method: auth.method });
          callback(null, { user: { accountId: result.account.accountId, address: result.account.address } });
          return;
        }
        log.info('authentication refused', { reason: result.reason, method: auth.method });
        callback(new SmtpReplyError(result.reason === 'throttled' ? REPLIES.authTemporary : REPLIES.authFailed));
      },
      (err) => {
        log.warn('authentication failed', { err });
        callback(new SmtpReplyError(REPLIES.authTemporary));
      },
    );
  };

  const onMailFrom: InboundHandlers['onMailFrom'] = (address, session, callback) => {
    const user = userOf(session);
    if (!user) return fail(callback, REPLIES.authRequired);
    if (address.address && !isAscii(address.address) && !(address.args || undefined)?.SMTPUTF8) {
      return fail(callback, REPLIES.utf8Required);
    }
    if (!deps.rate.has(user.accountId, Date.now())) return fail(callback, REPLIES.messageRateExceeded);
    // the null sender stays allowed: MDNs are sent with it (RFC 8098 §3); the header From is checked anyway
    if (!address.address) return callback();
    mayUseAddress(deps.identity, user, address.address).then(
      (ok) => (ok ? callback() : fail(callback, REPLIES.senderNotOwned)),
      (err) => {
        sessionLog(session).warn('sender check failed', { err });
        fail(callback, REPLIES.temporaryFailure);
      },
    );
  };

  const onRcptTo: InboundHandlers['onRcptTo'] = (address, session, callback) => {
    const log = sessionLog(session);
    const tx = transactions.get(session.envelope) ?? { local: [], remote: [] };
    transactions.set(session.envelope, tx);
    if (tx.local.length + tx.remote.length >= deps.limits.maxRecipients) {
      return fail(callback, REPLIES.tooManyRecipients);
    }
    deps.recipients.checkForRelay(address.address, !!session.envelope.smtpUtf8).then(
      (outcome) => {
        if (isReply(outcome)) {
          log.info('recipient refused', { rcpt: address.address, code: outcome.code, enhanced: outcome.enhanced });
          return fail(callback, outcome);
        }
        if (!isRemote(outcome)) {
          tx.local.push({ ...outcome, ...recipientDsn(address) });
          return callback();
        }
        if (!deps.queue) return fail(callback, REPLIES.remoteUnavailable);
        tx.remote.push({ ...outcome, ...recipientDsn(address) });
        callback();
      },
      (err) => {
        log.warn('recipient check failed', { rcpt: address.address, err });
        fail(callback, REPLIES.temporaryFailure);
      },
    );
  };

  const onData: InboundHandlers['onData'] = (stream, session, callback) => {
    const log = sessionLog(session);
    const user = userOf(session);
    const tx = transactions.get(session.envelope) ?? { local: [], remote: [] };
    if (!user) {
      stream.resume();
      stream.once('end', () => fail(callback, REPLIES.authRequired));
      return;
    }
    const msg = incomingMessage(session, [...tx.local, ...tx.remote]);
    submitMessage(
      { ...deps, account: user },
      { msg, local: tx.local, remote: tx.remote, ...messageDsn(session) },
      stream as Readable,
      log,
    ).then(
      (reply) => {
        if (reply.code !== 250) return fail(callback, reply);
        deps.rate.take(user.accountId, Date.now());
        deps.metrics.count('MessagesAccepted', { Listener: 'submission' });
        callback(null, `${reply.enhanced} ${reply.text}`);
      },
      (err) => {
        log.warn('message failed', { err });
        fail(callback, REPLIES.temporaryFailure);
      },
    );
  };

  return { onAuth, onMailFrom, onRcptTo, onData };
}

function userOf(session: SMTPServerSession): SubmitterAccount | undefined {
  return session.user as SubmitterAccount | undefined;
}
