/**
 * The gateway's SMTP listeners.
 *
 * - smtp (port 25 in AWS, POSTERN_SMTP_PORT locally): the MX. smtp-server with PIPELINING, SIZE (the
 *   configured limit), 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN and STARTTLS; no AUTH (an MX never takes
 *   credentials; relaying is refused to everyone). See inbound.ts for the transaction, lib/net/tcpListener.ts for
 *   PROXY v2, the listener's connection cap and the per-IP limit, connection.ts and sessionLimits.ts for the
 *   timeouts, deadlines and limits of a session.
 * - submission (587) and submissions (465): not implemented yet (a later issue). They answer
 *   421 4.3.2 and close, honestly, rather than pretending to accept mail.
 */

import { ByteBudget } from '../core/byteBudget.ts';
import type { Config } from '../core/config.ts';
import type { Invoker, Storage } from '../core/ports.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';
import { PosternSmtpServer } from './connection.ts';
import { createInboundHandlers } from './inbound.ts';
import { RecipientPolicy } from './recipients.ts';
import { REPLIES, replyLine } from './replies.ts';
import { StoreBatcher } from './storeBatcher.ts';

/** What the SMTP listeners are built from. */
export interface SmtpDeps extends ListenerContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly invoker: Invoker;
}

/** SMTP's words for the shared listener's refusals. */
const SMTP_REFUSAL = {
  listenerFull: replyLine(REPLIES.listenerFull),
  tooManyConnections: replyLine(REPLIES.tooManyConnections),
  proxyRefused: replyLine(REPLIES.proxyRefused),
};

export function createMxListener(deps: SmtpDeps): Listener {
  const { config, tls, storage, invoker } = deps;
  const tuning = config.smtp;
  const log = deps.log.child({ listener: 'smtp' });
  const handlers = createInboundHandlers({
    recipients: new RecipientPolicy({
      invoker,
      mail: storage.mail,
      hostname: config.hostname,
      routeCacheMs: tuning.routeCacheMs,
    }),
    ingest: {
      hostname: config.hostname,
      smtp: tuning,
      invoker,
      blobs: storage.blobs,
      batcher: new StoreBatcher(invoker),
      upload: {
        blobs: storage.blobs,
        budget: new ByteBudget(tuning.bodyMemoryBytes),
        perMessageBytes: storage.blobs.putMemoryBytes,
        budgetWaitMs: tuning.bodyMemoryWaitMs,
      },
    },
    log,
  });
  const server = new PosternSmtpServer(
    {
      name: config.hostname,
      banner: 'Postern',
      key: tls.key,
      cert: tls.cert,
      size: tuning.maxMessageSize,
      maxRecipients: tuning.maxRecipients,
      maxCommandLength: tuning.maxCommandLength,
      socketTimeout: tuning.commandTimeoutMs,
      closeTimeout: 1000,
      disabledCommands: ['AUTH'],
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      hideSTARTTLS: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hideREQUIRETLS: true,
      disableReverseLookup: true,
      logger: false,
      onMailFrom: handlers.onMailFrom,
      onRcptTo: handlers.onRcptTo,
      onData: handlers.onData,
    },
    { smtp: tuning, tlsHandshakeTimeoutMs: config.net.tlsHandshakeTimeoutMs, log },
  );
  server.on('error', (err: Error) => log.debug('session error', { err }));
  return createTcpListener(netContext(deps), {
    name: 'smtp',
    port: config.ports.smtp,
    implicitTls: false,
    maxConnections: config.net.maxConnections.smtp,
    refusal: SMTP_REFUSAL,
    log,
    // smtp-server reads PROXY v1 only; the shared listener has already taken the v2 header off the socket.
    onConnection: ({ socket, cid, remoteAddress, remotePort, load }) =>
      server.connect(socket, { id: cid, remoteAddress, remotePort }, load),
    onForcedClose: () => {
      const { code, enhanced, text } = REPLIES.shuttingDown;
      for (const conn of server.connections) {
        try {
          conn.send(code, `${enhanced} ${text}`);
        } catch {
          // the socket may be gone already
        }
      }
    },
  });
}

/** SMTP listeners: the MX, and the submission ports (not implemented yet). */
export function createSmtpListeners(deps: SmtpDeps): Listener[] {
  const { ports, hostname, net } = deps.config;
  const notYet = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(netContext(deps), {
      name,
      port,
      implicitTls,
      maxConnections: net.maxConnections.submission,
      refusal: SMTP_REFUSAL,
      onConnection: ({ socket }) => {
        socket.end(`421 4.3.2 ${hostname} Message submission is not available yet\r\n`);
      },
    });
  return [
    createMxListener(deps),
    notYet('submission', ports.submission, false),
    notYet('submissions', ports.submissions, true),
  ];
}

const netContext = (deps: SmtpDeps) => ({ net: deps.config.net, tls: deps.tls, log: deps.log });
