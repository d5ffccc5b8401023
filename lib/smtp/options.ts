/**
 * SMTP tuning that is not part of GatewayConfig (lib/core/config.ts holds the settings every protocol shares:
 * host name, SIZE limit, recipients per transaction, connections per IP, PROXY protocol).
 *
 * Read from the environment (POSTERN_SMTP_*). A test gateway can attach its own values to its config object
 * with `configureSmtp(config, options)`; createSmtpListeners then uses those instead of process.env, so two
 * gateways in one test process never share tuning through the environment.
 */

import type { GatewayConfig } from '../core/config.ts';
import { envInt } from '../core/config.ts';

export interface SmtpOptions {
  /** Idle time allowed between commands (RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes). */
  readonly commandTimeoutMs: number;
  /** Idle time allowed while the message text is being received (between two data blocks). */
  readonly dataTimeoutMs: number;
  /** Longest command line in octets including CRLF (RFC 5321 §4.5.3.1.4 is 512; ESMTP parameters add to it). */
  readonly maxCommandLength: number;
  /** Longest line of message text in octets including CRLF (RFC 5321 §4.5.3.1.6 says 1000; we are lenient). */
  readonly maxDataLineLength: number;
  /** Received headers a message may already carry before we call it a loop (RFC 5321 §6.3: at least 100). */
  readonly maxReceivedHeaders: number;
  /** Replies of class 5xx to one client before the session is closed with 421. */
  readonly maxErrors: number;
  /** Connections the SMTP listener serves at once, all clients together. */
  readonly maxClients: number;
  /** How long a route result is reused for the same recipient (DESIGN.md: cache briefly). */
  readonly routeCacheMs: number;
  /** Attempts at the store step of one transaction (the step is idempotent, so retrying is safe). */
  readonly storeAttempts: number;
  /** Pause before the next store attempt, doubled each time. */
  readonly retryDelayMs: number;
}

export const DEFAULT_SMTP_OPTIONS: SmtpOptions = {
  commandTimeoutMs: 5 * 60_000,
  dataTimeoutMs: 3 * 60_000,
  maxCommandLength: 2048,
  maxDataLineLength: 64 * 1024,
  maxReceivedHeaders: 100,
  maxErrors: 20,
  maxClients: 2000,
  routeCacheMs: 5000,
  storeAttempts: 3,
  retryDelayMs: 200,
};

const ENV: Record<keyof SmtpOptions, string> = {
  commandTimeoutMs: 'POSTERN_SMTP_COMMAND_TIMEOUT_MS',
  dataTimeoutMs: 'POSTERN_SMTP_DATA_TIMEOUT_MS',
  maxCommandLength: 'POSTERN_SMTP_MAX_COMMAND_LENGTH',
  maxDataLineLength: 'POSTERN_SMTP_MAX_DATA_LINE_LENGTH',
  maxReceivedHeaders: 'POSTERN_SMTP_MAX_RECEIVED',
  maxErrors: 'POSTERN_SMTP_MAX_ERRORS',
  maxClients: 'POSTERN_SMTP_MAX_CLIENTS',
  routeCacheMs: 'POSTERN_SMTP_ROUTE_CACHE_MS',
  storeAttempts: 'POSTERN_SMTP_STORE_ATTEMPTS',
  retryDelayMs: 'POSTERN_SMTP_RETRY_DELAY_MS',
};

/** SmtpOptions from POSTERN_SMTP_* variables; unset ones keep their defaults. */
export function smtpOptionsFromEnv(env: NodeJS.ProcessEnv | Record<string, string | undefined>): SmtpOptions {
  const out: Record<string, number> = { ...DEFAULT_SMTP_OPTIONS };
  for (const [key, name] of Object.entries(ENV)) out[key] = envInt(env, name, out[key]);
  return out as unknown as SmtpOptions;
}

const attached = new WeakMap<GatewayConfig, SmtpOptions>();

/** Attaches SMTP tuning to one gateway's config (tests); createSmtpListeners reads it from there. */
export function configureSmtp(config: GatewayConfig, options: Partial<SmtpOptions>): void {
  attached.set(config, { ...(attached.get(config) ?? smtpOptionsFromEnv(process.env)), ...options });
}

export function smtpOptionsFor(config: GatewayConfig): SmtpOptions {
  return attached.get(config) ?? smtpOptionsFromEnv(process.env);
}
