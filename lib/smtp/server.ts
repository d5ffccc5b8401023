import { createTcpListener } from '../gateway/tcpListener.ts';
import type { GatewayDeps, Listener } from '../gateway/types.ts';

/** SMTP listeners (placeholder until the SMTP server lands). */
export function createSmtpListeners(deps: GatewayDeps): Listener[] {
  const { ports, hostname } = deps.config;
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(deps, {
      name,
      port,
      implicitTls,
      onConnection: ({ socket }) => {
        socket.end(`421 ${hostname} Postern SMTP placeholder\r\n`);
      },
    });
  return [make('smtp', ports.smtp, false), make('submission', ports.submission, false), make('submissions', ports.submissions, true)];
}
