import { createSecureContext, type SecureContext, type TLSSocketOptions } from 'node:tls';
import type { TlsMaterial } from './types.ts';

/**
 * The certificate the listeners serve, replaceable while they run: its key and cert read the current pair, and
 * every new handshake (implicit TLS, STARTTLS, STLS) takes the current secure context, so a renewal reaches new
 * connections while established ones keep the context they were made with. One context for all connections
 * instead of one parsed per handshake.
 */
export class LiveTls implements TlsMaterial {
  #material: TlsMaterial;
  #context: SecureContext;
  readonly #listeners = new Set<(tls: TlsMaterial) => void>();

  constructor(material: TlsMaterial) {
    this.#context = createSecureContext({ key: material.key, cert: material.cert });
    this.#material = { key: material.key, cert: material.cert };
  }

  get key(): string {
    return this.#material.key;
  }

  get cert(): string {
    return this.#material.cert;
  }

  get secureContext(): SecureContext {
    return this.#context;
  }

  /** Serves `material` from the next handshake on; throws (and keeps serving the old pair) when it is unusable. */
  replace(material: TlsMaterial): void {
    this.#context = createSecureContext({ key: material.key, cert: material.cert });
    this.#material = { key: material.key, cert: material.cert };
    for (const listener of this.#listeners) listener(this.#material);
  }

  /** Called after each replace (for servers that keep a context of their own: smtp-server's STARTTLS). */
  onReplace(listener: (tls: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Server-side TLSSocket options for `tls`: the shared live context when there is one. */
export function serverTlsOptions(tls: TlsMaterial): TLSSocketOptions {
  if (tls instanceof LiveTls) return { isServer: true, secureContext: tls.secureContext };
  return { isServer: true, key: tls.key, cert: tls.cert };
}

/** Calls `apply` with each pair `tls` is replaced by (never, for a fixed pair). */
export function whenTlsReplaced(tls: TlsMaterial, apply: (tls: TlsMaterial) => void): void {
  if (tls instanceof LiveTls) tls.onReplace(apply);
}
