import type { Logger } from '../core/log.ts';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

/** One TCP listener of the gateway (SMTP, submission, POP3, IMAP ... each plain or implicit TLS). */
export interface Listener {
  readonly name: string;
  /** The bound port (the actual one once listening, when configured as 0). */
  readonly port: number;
  /** Connections open now (from accept to close, refused ones not counted). */
  readonly connections: number;
  /** Connections accepted since the listener was made (for the ConnectionsOpened metric). */
  readonly opened: number;
  listen(): Promise<void>;
  /** Stops accepting, lets sessions finish for up to graceMs, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** What every protocol's listeners are built from, besides the protocol's own dependencies. */
export interface ListenerContext {
  readonly tls: TlsMaterial;
  readonly log: Logger;
}
