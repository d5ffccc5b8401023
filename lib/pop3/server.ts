/**
 * The POP3 listeners of the gateway: 110 with STLS and 995 with implicit TLS in AWS (POSTERN_POP3_PORT and
 * POSTERN_POP3S_PORT locally). Each connection gets a Pop3Session over the storage backend. See README.md
 * beside this file for the commands, semantics and settings.
 */

import type { Authenticator } from '../auth/authenticator.ts';
import type { Config } from '../core/config.ts';
import type { Storage } from '../core/ports.ts';
import { createTcpListener } from '../net/tcpListener.ts';
import type { Listener, ListenerContext } from '../net/types.ts';
import { createStorageBackend } from './backend.ts';
import { Pop3Session } from './session.ts';

/** POP3's words for the shared listener's refusals (RFC 3206 response codes). */
const POP3_REFUSAL = {
  listenerFull: '-ERR [SYS/TEMP] too many connections, try again later\r\n',
  tooManyConnections: '-ERR [SYS/TEMP] too many connections from your address\r\n',
  proxyRefused: '-ERR PROXY protocol header not accepted on this port\r\n',
};

/** What the POP3 listeners are built from. */
export interface Pop3Deps extends ListenerContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly authenticator: Authenticator;
}

/** POP3 (STLS) and POP3S (implicit TLS) listeners. */
export function createPop3Listeners(deps: Pop3Deps): Listener[] {
  const { config } = deps;
  const options = config.pop3;
  const backend = createStorageBackend(deps.storage, deps.authenticator, { leaseMs: options.leaseMs });
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(
      { net: config.net, tls: deps.tls, log: deps.log },
      {
        name,
        port,
        implicitTls,
        maxConnections: config.net.maxConnections.pop3,
        refusal: POP3_REFUSAL,
        onConnection: (conn) => {
          const session = new Pop3Session(conn, backend, {
            hostname: config.hostname,
            allowPlaintextAuth: config.allowPlaintextAuth,
            idleTimeoutMs: options.idleTimeoutMs,
            maxErrors: options.maxErrors,
            tls: deps.tls,
            tlsHandshakeTimeoutMs: config.net.tlsHandshakeTimeoutMs,
          });
          void session.run();
        },
      },
    );
  return [make('pop3', config.ports.pop3, false), make('pop3s', config.ports.pop3s, true)];
}
