import type { GatewayConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Invoker } from '../core/ports.ts';
import type { Storage } from '../storage/storage.ts';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

/** What every protocol listener is built from. */
export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly storage: Storage;
  readonly invoker: Invoker;
  readonly tls: TlsMaterial;
  readonly log: Logger;
}

/** One TCP listener of the gateway (SMTP, submission, POP3, IMAP ... each plain or implicit TLS). */
export interface Listener {
  readonly name: string;
  /** The bound port (the actual one once listening, when configured as 0). */
  readonly port: number;
  listen(): Promise<void>;
  /** Stops accepting, lets sessions finish for up to graceMs, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}
