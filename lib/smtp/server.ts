/**
 * The gateway's SMTP listeners.
 *
 * - smtp (port 25 in AWS, POSTERN_SMTP_PORT locally): the MX. smtp-server with PIPELINING, SIZE (the
 *   configured limit), 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS and DSN (a NOTIFY=SUCCESS recipient
 *   stored here gets its sender a "delivered" report, localSuccessDsn.ts); no AUTH (an MX never takes
 *   credentials; relaying is refused to everyone). See inbound.ts for the transaction.
 * - submission (587, STARTTLS) and submissions (465, implicit TLS; RFC 8314): AUTH PLAIN and LOGIN, only
 *   inside TLS unless plaintext is allowed (the emulator), and DSN, whose parameters go into the queue
 *   entries. See submission.ts.
 *
 * lib/net/tcpListener.ts gives every listener PROXY v2, the connection cap and the per-IP limit;
 * connection.ts and sessionLimits.ts the timeouts, deadlines and limits of a session.
 */

import type { SMTPServerOptions } from 'smtp-server';
import type { Authenticator } from '../auth/authenticator.ts';
import { HourlyTokens } from '../auth/hourlyTokens.ts';
import { ByteBudget } from '../core/byteBudget.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { type Metrics, noMetrics } from '../core/metrics.ts';
import type { OutboundQueue, SystemMailSender } from '../core/outbound.ts';
import type { Invoker, Storage } from '../core/ports.ts';
import type { LocalStoreDeps } from '../delivery/localTarget.ts';
import { SrsCodec } from '../delivery/srs.ts';
import { StoreBatcher } from '../delivery/storeBatcher.ts';
import { systemMailSenderOver } from '../delivery/systemMail.ts';
import { whenTlsReplaced } from '../net/liveTls.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';
import type { RouteRequest, RouteResult } from '../pipeline/contracts.ts';
import { PosternSmtpServer } from './connection.ts';
import type { ForwardDeps } from './forward.ts';
import { createInboundHandlers } from './inbound.ts';
import type { ReceiveDeps } from './receive.ts';
import { RecipientPolicy } from './recipients.ts';
import { REPLIES, replyLine, replyText } from './replies.ts';
import { createSubmissionHandlers } from './submission.ts';

/** What the SMTP listeners are built from. */
export interface SmtpDeps extends ListenerContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly invoker: Invoker;
  readonly authenticator: Authenticator;
  /**
   * The outbound queue for remote recipients of submitted mail, when not the storage's own (tests give an
   * in-memory double).
   */
  readonly queue?: OutboundQueue;
  /** Starts the deliver function at once after an enqueue (the gateway's DeliverKicker). */
  readonly kickQueue?: () => void;
  /** Where messages accepted and rejected are counted (absent: nowhere). */
  readonly metrics?: Metrics;
}

/** SMTP's words for the shared listener's refusals. */
const SMTP_REFUSAL = {
  listenerFull: replyLine(REPLIES.listenerFull),
  tooManyConnections: replyLine(REPLIES.tooManyConnections),
  proxyRefused: replyLine(REPLIES.proxyRefused),
};

/** The pieces the MX and submission share: one body-memory budget, one store batcher, one route cache. */
interface SharedParts {
  readonly receive: ReceiveDeps;
  readonly local: LocalStoreDeps;
  readonly recipients: RecipientPolicy;
  /** Set when forwarding is configured (POSTERN_SRS_SECRET). */
  readonly srs?: SrsCodec;
}

/** What the MX forwards with (the queue and the SRS codec), when forwarding is configured. */
function forwardDeps(deps: SmtpDeps, shared: SharedParts): ForwardDeps | undefined {
  if (!shared.srs) return undefined;
  const queue = deps.queue ?? deps.storage.queue;
  return { queue, srs: shared.srs, hostname: deps.config.hostname, onEnqueued: deps.kickQueue };
}

function sharedParts(deps: SmtpDeps): SharedParts {
  const { config, storage, invoker } = deps;
  const tuning = config.smtp;
  const { srsSecret, srsPreviousSecrets, srsMaxAgeDays } = config.forwarding;
  const srs = srsSecret
    ? new SrsCodec({ secret: srsSecret, previousSecrets: srsPreviousSecrets, maxAgeDays: srsMaxAgeDays })
    : undefined;
  return {
    srs,
    receive: {
      hostname: config.hostname,
      smtp: tuning,
      blobs: storage.blobs,
      upload: {
        blobs: storage.blobs,
        budget: new ByteBudget(tuning.bodyMemoryBytes),
        perMessageBytes: storage.blobs.putMemoryBytes,
        budgetWaitMs: tuning.bodyMemoryWaitMs,
      },
    },
    local: {
      batcher: new StoreBatcher(invoker),
      retry: { attempts: tuning.storeAttempts, retryDelayMs: tuning.retryDelayMs },
      metrics: deps.metrics,
    },
    recipients: new RecipientPolicy({
      invoker,
      mail: storage.mail,
      hostname: config.hostname,
      routeCacheMs: tuning.routeCacheMs,
      srs,
    }),
  };
}

/** smtp-server options every listener has; each adds its handlers and extensions. */
function baseOptions(deps: SmtpDeps): SMTPServerOptions {
  const { config, tls } = deps;
  const tuning = config.smtp;
  return {
    name: config.hostname,
    banner: 'Postern',
    key: tls.key,
    cert: tls.cert,
    size: tuning.maxMessageSize,
    maxCommandLength: tuning.maxCommandLength,
    socketTimeout: tuning.commandTimeoutMs,
    closeTimeout: 1000,
    hideENHANCEDSTATUSCODES: false,
    hideSTARTTLS: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    logger: false,
  };
}

function smtpListener(
  deps: SmtpDeps,
  spec: { name: string; port: number; implicitTls: boolean; cap: number; log: Logger },
  options: SMTPServerOptions,
): Listener {
  const { config } = deps;
  const server = new PosternSmtpServer(options, {
    smtp: config.smtp,
    tlsHandshakeTimeoutMs: config.net.tlsHandshakeTimeoutMs,
    log: spec.log,
    allowPlaintextAuth: config.allowPlaintextAuth,
  });
  server.on('error', (err: Error) => spec.log.debug('session error', { err }));
  // smtp-server's STARTTLS takes the context it built from key/cert: rebuild it when the certificate is renewed
  whenTlsReplaced(deps.tls, ({ key, cert }) => server.updateSecureContext({ key, cert }));
  return createTcpListener(netContext(deps), {
    name: spec.name,
    port: spec.port,
    implicitTls: spec.implicitTls,
    maxConnections: spec.cap,
    refusal: SMTP_REFUSAL,
    log: spec.log,
    // smtp-server reads PROXY v1 only; the shared listener has already taken the v2 header off the socket.
    onConnection: ({ socket, cid, remoteAddress, remotePort, load }) =>
      server.connect(socket, { id: cid, remoteAddress, remotePort }, load),
    onForcedClose: () => {
      const { code } = REPLIES.shuttingDown;
      for (const conn of server.connections) {
        try {
          conn.send(code, replyText(REPLIES.shuttingDown));
        } catch {
          // the socket may be gone already
        }
      }
    },
  });
}

/** DSNs this listener sends (delivered reports): into a local sender's mailbox, through the queue otherwise. */
function systemMailOf(deps: SmtpDeps, log: Logger): SystemMailSender {
  const queue = deps.queue ?? deps.storage.queue;
  return systemMailSenderOver(deps.invoker, { blobs: deps.storage.blobs, queue, onEnqueued: deps.kickQueue, log });
}

function createMxListener(deps: SmtpDeps, shared: SharedParts): Listener {
  const { config } = deps;
  const log = deps.log.child({ listener: 'smtp' });
  const handlers = createInboundHandlers({
    recipients: shared.recipients,
    ingest: {
      ...shared.receive,
      invoker: deps.invoker,
      local: shared.local,
      forward: forwardDeps(deps, shared),
      systemMail: systemMailOf(deps, log),
    },
    log,
    metrics: deps.metrics ?? noMetrics,
  });
  return smtpListener(
    deps,
    { name: 'smtp', port: config.ports.smtp, implicitTls: false, cap: config.net.maxConnections.smtp, log },
    {
      ...baseOptions(deps),
      maxRecipients: config.smtp.maxRecipients,
      disabledCommands: ['AUTH'],
      hideDSN: false,
      onMailFrom: handlers.onMailFrom,
      onRcptTo: handlers.onRcptTo,
      onData: handlers.onData,
    },
  );
}

function createSubmissionListeners(deps: SmtpDeps, shared: SharedParts): Listener[] {
  const { config, storage, invoker } = deps;
  const log = deps.log.child({ listener: 'submission' });
  const route = (recipient: string) =>
    invoker.invoke<RouteRequest, RouteResult>('route', { recipient, hostname: config.hostname });
  const queue = deps.queue ?? storage.queue;
  const handlers = createSubmissionHandlers({
    hostname: config.hostname,
    limits: config.submission,
    authenticator: deps.authenticator,
    recipients: shared.recipients,
    identity: { directory: storage.directory, route },
    rate: new HourlyTokens(config.submission.maxMessagesPerHour, 100_000),
    receive: shared.receive,
    local: shared.local,
    queue,
    onEnqueued: deps.kickQueue,
    systemMail: systemMailOf(deps, log),
    log,
    metrics: deps.metrics ?? noMetrics,
  });
  const options = (secure: boolean): SMTPServerOptions => ({
    ...baseOptions(deps),
    secure,
    needsUpgrade: false,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: config.allowPlaintextAuth,
    authRequiredMessage: replyText(REPLIES.authRequired),
    hideDSN: false,
    onAuth: handlers.onAuth,
    onMailFrom: handlers.onMailFrom,
    onRcptTo: handlers.onRcptTo,
    onData: handlers.onData,
  });
  const cap = config.net.maxConnections.submission;
  return [
    smtpListener(
      deps,
      { name: 'submission', port: config.ports.submission, implicitTls: false, cap, log },
      options(false),
    ),
    smtpListener(
      deps,
      { name: 'submissions', port: config.ports.submissions, implicitTls: true, cap, log },
      options(true),
    ),
  ];
}

/** SMTP listeners: the MX, and the submission ports. */
export function createSmtpListeners(deps: SmtpDeps): Listener[] {
  const shared = sharedParts(deps);
  return [createMxListener(deps, shared), ...createSubmissionListeners(deps, shared)];
}

const netContext = (deps: SmtpDeps) => ({ net: deps.config.net, tls: deps.tls, log: deps.log });
