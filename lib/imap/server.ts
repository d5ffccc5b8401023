/**
 * The IMAP listeners of the gateway: 143 with STARTTLS and 993 with implicit TLS in AWS (POSTERN_IMAP_PORT
 * and POSTERN_IMAPS_PORT locally). Each connection gets an ImapSession over the storage backend; the
 * listener gives it the caps, the stress idle timeout and the TLS handshake timeout of every listener.
 */
import type { Authenticator } from '../auth/authenticator.ts';
import type { Config } from '../core/config.ts';
import type { ChangeNotifier, Storage } from '../core/ports.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';
import { createImapBackend } from './backend.ts';
import { ImapSession } from './session.ts';

export interface ImapDeps extends ListenerContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly authenticator: Authenticator;
  /** Change hints for IDLE (absent: sessions in IDLE only poll the store). */
  readonly notifier?: ChangeNotifier;
}

/** IMAP's words for the shared listener's refusals. */
const IMAP_REFUSAL = {
  // RFC 5530 §3: UNAVAILABLE, a temporary failure of the server
  listenerFull: '* BYE [UNAVAILABLE] too many connections, try again later\r\n',
  tooManyConnections: '* BYE too many connections from your address\r\n',
  proxyRefused: '* BYE PROXY protocol header not accepted on this port\r\n',
};

/** IMAP (STARTTLS) and IMAPS (implicit TLS) listeners. */
export function createImapListeners(deps: ImapDeps): Listener[] {
  const { config } = deps;
  const backend = createImapBackend(deps.storage.mail, deps.storage.blobs, deps.authenticator, deps.notifier);
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(
      { net: config.net, tls: deps.tls, log: deps.log },
      {
        name,
        port,
        implicitTls,
        maxConnections: config.net.maxConnections.imap,
        refusal: IMAP_REFUSAL,
        onConnection: (conn) => {
          const session = new ImapSession(conn, backend, {
            hostname: config.hostname,
            allowPlaintextAuth: config.allowPlaintextAuth,
            idleTimeoutMs: config.imap.idleTimeoutMs,
            maxErrors: config.imap.maxErrors,
            appendLimit: config.imap.appendLimit,
            idlePollMs: config.imap.idlePollMs,
            tls: deps.tls,
            tlsHandshakeTimeoutMs: config.net.tlsHandshakeTimeoutMs,
          });
          void session.run();
        },
      },
    );
  return [make('imap', config.ports.imap, false), make('imaps', config.ports.imaps, true)];
}
