/**
 * The gateway's SMTP listeners.
 *
 * - smtp (port 25 in AWS, POSTERN_SMTP_PORT locally): the MX. smtp-server with PIPELINING, SIZE (the
 *   configured limit), 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN and STARTTLS; no AUTH (an MX never takes
 *   credentials; relaying is refused to everyone). See inbound.ts for the transaction, listener.ts for PROXY
 *   v2 and the per-IP limit, connection.ts for timeouts and the error limit.
 * - submission (587) and submissions (465): not implemented yet (a later issue). They answer
 *   421 4.3.2 and close, honestly, rather than pretending to accept mail.
 */
import { createTcpListener } from '../gateway/tcpListener.ts';
import type { GatewayDeps, Listener } from '../gateway/types.ts';
import { PosternSmtpServer } from './connection.ts';
import { createInboundHandlers } from './inbound.ts';
import { createSmtpListener } from './listener.ts';
import { smtpOptionsFor } from './options.ts';

export function createMxListener(deps: GatewayDeps): Listener {
  const { config, tls } = deps;
  const tuning = smtpOptionsFor(config);
  const log = deps.log.child({ listener: 'smtp' });
  const handlers = createInboundHandlers(deps, tuning, log);
  const server = new PosternSmtpServer(
    {
      name: config.hostname,
      banner: 'Postern',
      key: tls.key,
      cert: tls.cert,
      size: config.maxMessageSize,
      maxRecipients: config.maxRecipients,
      maxClients: tuning.maxClients,
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
    tuning,
  );
  server.on('error', (err: Error) => log.debug('session error', { err }));
  return createSmtpListener(deps, { name: 'smtp', port: config.ports.smtp, server, log });
}

/** SMTP listeners: the MX, and the submission ports (not implemented yet). */
export function createSmtpListeners(deps: GatewayDeps): Listener[] {
  const { ports, hostname } = deps.config;
  const notYet = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(deps, {
      name,
      port,
      implicitTls,
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
