/**
 * The POP3 listeners of the gateway: 110 with STLS and 995 with implicit TLS in AWS (POSTERN_POP3_PORT and
 * POSTERN_POP3S_PORT locally). Each connection gets a Pop3Session over the storage backend. See README.md
 * beside this file for the commands, semantics and settings.
 */

import { sharedAuthenticator } from '../auth/authenticator.ts';
import { envInt } from '../core/config.ts';
import { createTcpListener } from '../gateway/tcpListener.ts';
import type { GatewayDeps, Listener } from '../gateway/types.ts';
import { createStorageBackend } from './backend.ts';
import { Pop3Session } from './session.ts';

/** POP3's words for the shared listener's refusals (RFC 3206 response codes). */
const POP3_REFUSAL = {
  tooManyConnections: '-ERR [SYS/TEMP] too many connections from your address\r\n',
  proxyRefused: '-ERR PROXY protocol header not accepted on this port\r\n',
};

export interface Pop3Options {
  /** RFC 1939 §3 autologout timer (POSTERN_POP3_IDLE_MS, default 10 minutes, the RFC's minimum). */
  readonly idleTimeoutMs: number;
  /** Maildrop lease time to live (POSTERN_POP3_LEASE_MS, default 60 s; renewed every third of it). */
  readonly leaseMs: number;
  /** Errors tolerated per connection before it is closed (POSTERN_POP3_MAX_ERRORS, default 10). */
  readonly maxErrors: number;
}

export function pop3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pop3Options {
  const int = (name: string, fallback: number, min: number) => envInt(env, name, fallback, min);
  return {
    idleTimeoutMs: int('POSTERN_POP3_IDLE_MS', 10 * 60_000, 1),
    leaseMs: int('POSTERN_POP3_LEASE_MS', 60_000, 30),
    maxErrors: int('POSTERN_POP3_MAX_ERRORS', 10, 1),
  };
}

/** POP3 (STLS) and POP3S (implicit TLS) listeners. */
export function createPop3Listeners(deps: GatewayDeps): Listener[] {
  const { config } = deps;
  const options = pop3OptionsFromEnv();
  const backend = createStorageBackend(deps.storage, sharedAuthenticator(deps.storage.directory), {
    leaseMs: options.leaseMs,
  });
  const make = (name: string, port: number, implicitTls: boolean) =>
    createTcpListener(deps, {
      name,
      port,
      implicitTls,
      refusal: POP3_REFUSAL,
      onConnection: (conn) => {
        const session = new Pop3Session(conn, backend, {
          hostname: config.hostname,
          allowPlaintextAuth: config.allowPlaintextAuth,
          idleTimeoutMs: options.idleTimeoutMs,
          maxErrors: options.maxErrors,
          tls: deps.tls,
        });
        void session.run();
      },
    });
  return [make('pop3', config.ports.pop3, false), make('pop3s', config.ports.pop3s, true)];
}
