/**
 * Chooses the transport (POSTERN_OUTBOUND_TRANSPORT): `outbox` (the emulator's default: files under
 * <data>/outbox), `smarthost` (POSTERN_SMARTHOST=host:port), `mx` (direct to the recipient domain's MX) or
 * `ses` (Amazon SES; the adapter lives in lib/storage/aws and is handed in by the composition root, since
 * lib/outbound never imports the AWS SDK). The options come from lib/core/config.ts, read once.
 */
import type { Transport } from '../../core/outbound.ts';
import type { Resolver } from '../../pipeline/dns.ts';
import { mailauthMtaSts } from './mtaSts.ts';
import { MxTransport } from './mx.ts';
import { OutboxTransport, outboxDir } from './outbox.ts';
import { type SmarthostOptions, SmarthostTransport } from './smarthost.ts';
import type { SmtpTimeouts } from './smtpSession.ts';

export type TransportKind = 'outbox' | 'smarthost' | 'mx' | 'ses';

export interface TransportConfig {
  readonly kind: TransportKind;
  /** Our name in EHLO (POSTERN_HOSTNAME). */
  readonly heloName: string;
  /** POSTERN_SMARTHOST and its settings; required for `smarthost`. */
  readonly smarthost?: Omit<SmarthostOptions, 'heloName' | 'timeouts'>;
  /** Port of the MX hosts; 25 unless a test says otherwise. */
  readonly mxPort?: number;
  /** Deliver to loopback and private MX addresses (tests only). */
  readonly mxAllowPrivateAddresses?: boolean;
  /** Look up and enforce MTA-STS policies (RFC 8461) for `mx`; default true. */
  readonly mxMtaSts?: boolean;
  readonly timeouts?: SmtpTimeouts;
}

export interface TransportDeps {
  /** The emulator's data directory (outbox). */
  readonly dataDir?: string;
  /** DNS for `mx` (lib/pipeline/dns.ts: the system resolver, a stub in tests). */
  readonly resolver?: Resolver;
  /** Builds the SES transport (lib/storage/aws). */
  readonly ses?: () => Transport;
}

export class TransportConfigError extends Error {}

export function createTransport(config: TransportConfig, deps: TransportDeps): Transport {
  switch (config.kind) {
    case 'outbox':
      if (!deps.dataDir) throw new TransportConfigError('the outbox transport needs the data directory');
      return new OutboxTransport(outboxDir(deps.dataDir));
    case 'smarthost':
      if (!config.smarthost) throw new TransportConfigError('POSTERN_SMARTHOST is not set');
      return new SmarthostTransport({ ...config.smarthost, heloName: config.heloName, timeouts: config.timeouts });
    case 'mx':
      if (!deps.resolver) throw new TransportConfigError('the mx transport needs a DNS resolver');
      return new MxTransport({
        resolver: deps.resolver,
        port: config.mxPort ?? 25,
        heloName: config.heloName,
        timeouts: config.timeouts,
        allowPrivateAddresses: config.mxAllowPrivateAddresses,
        mtaSts: config.mxMtaSts === false ? undefined : mailauthMtaSts({ resolver: deps.resolver }),
      });
    case 'ses':
      if (!deps.ses) throw new TransportConfigError('the ses transport is only available with AWS storage');
      return deps.ses();
  }
}

/** `host:port`, `[v6 address]:port`; the port defaults to 587 (submission, RFC 6409). */
export function parseSmarthost(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(value.trim());
  const port = m?.[3] === undefined ? 587 : Number(m[3]);
  if (!m || port < 1 || port > 65535)
    throw new TransportConfigError(`POSTERN_SMARTHOST must be host:port, not ${value}`);
  return { host: m[1] ?? m[2], port };
}
