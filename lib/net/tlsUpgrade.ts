import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { serverTlsOptions } from './liveTls.ts';
import type { TlsMaterial } from './types.ts';

/** Time a STARTTLS/STLS handshake may take when the listener gives none (NetConfig.tlsHandshakeTimeoutMs). */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The server side of an in-band TLS upgrade (SMTP STARTTLS is smtp-server's; this is IMAP STARTTLS and POP3
 * STLS): once the protocol has answered "go ahead", the handshake runs on the same connection within a deadline.
 * The plain socket's idle timer is switched off first (the TLS socket gets its own from the session). Resolves
 * with the TLS socket, or undefined when the handshake failed or took too long (the socket is then destroyed).
 */
export async function upgradeToTls(
  plain: Socket,
  tls: TlsMaterial,
  onError: (err: Error) => void,
  timeoutMs = DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
): Promise<TLSSocket | undefined> {
  plain.setTimeout(0);
  plain.removeAllListeners('timeout');
  const secure = new TLSSocket(plain, serverTlsOptions(tls));
  secure.on('error', onError);
  const done = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    secure.once('secure', () => {
      clearTimeout(timer);
      resolve(true);
    });
    secure.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (done) return secure;
  secure.destroy();
  return undefined;
}
