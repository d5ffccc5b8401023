import type { Config } from '../core/config.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';

export interface ImapDeps extends ListenerContext {
  readonly config: Config;
}

/** How long the stub waits for a first command (shorter while the listener is under stress). */
const STUB_IDLE_MS = 30_000;

/**
 * IMAP listeners (143 with STARTTLS, 993 implicit TLS). Until the IMAP server lands they greet and then
 * refuse every command, so clients get a clear answer instead of a hang. They have the caps, the stress idle
 * timeout and the TLS handshake timeout of every listener.
 */
export function createImapListeners(deps: ImapDeps): Listener[] {
  const { ports, net } = deps.config;
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(
      { net: deps.config.net, tls: deps.tls, log: deps.log },
      {
        name,
        port,
        implicitTls,
        maxConnections: net.maxConnections.imap,
        refusal: {
          // RFC 5530 §3: UNAVAILABLE, a temporary failure of the server
          listenerFull: '* BYE [UNAVAILABLE] too many connections, try again later\r\n',
          tooManyConnections: '* BYE too many connections from your address\r\n',
          proxyRefused: '* BYE PROXY protocol header not accepted on this port\r\n',
        },
        onConnection: ({ socket, log, load }) => {
          log.info('connected');
          socket.write('* OK [CAPABILITY IMAP4rev1] Postern IMAP is not available yet\r\n');
          const idle = () => load?.idleTimeout(STUB_IDLE_MS) ?? STUB_IDLE_MS;
          socket.setTimeout(idle(), () => socket.destroy());
          const unwatch = load?.watch(() => socket.setTimeout(idle()));
          if (unwatch) socket.once('close', unwatch);
          socket.on('data', () => socket.end('* BYE IMAP is not available yet\r\n'));
        },
      },
    );
  return [make('imap', ports.imap, false), make('imaps', ports.imaps, true)];
}
