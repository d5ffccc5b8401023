import type { Config } from '../core/config.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';

export interface ImapDeps extends ListenerContext {
  readonly config: Config;
}

/**
 * IMAP listeners (143 with STARTTLS, 993 implicit TLS). Until the IMAP server lands they greet and then
 * refuse every command, so clients get a clear answer instead of a hang.
 */
export function createImapListeners(deps: ImapDeps): Listener[] {
  const { ports } = deps.config;
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(
      { net: deps.config.net, tls: deps.tls, log: deps.log },
      {
        name,
        port,
        implicitTls,
        refusal: {
          tooManyConnections: '* BYE too many connections from your address\r\n',
          proxyRefused: '* BYE PROXY protocol header not accepted on this port\r\n',
        },
        onConnection: ({ socket, log }) => {
          log.info('connected');
          socket.write('* OK [CAPABILITY IMAP4rev1] Postern IMAP is not available yet\r\n');
          socket.setTimeout(30_000, () => socket.destroy());
          socket.on('data', () => socket.end('* BYE IMAP is not available yet\r\n'));
        },
      },
    );
  return [make('imap', ports.imap, false), make('imaps', ports.imaps, true)];
}
