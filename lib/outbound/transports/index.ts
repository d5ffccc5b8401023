/**
 * Chooses the transport (POSTERN_OUTBOUND_TRANSPORT): `outbox` (the emulator's default: files under
 * <data>/outbox), `smarthost` (POSTERN_SMARTHOST=host:port), `mx` (direct to the recipient domain's MX) or
 * `ses` (Amazon SES; the adapter lives in lib/storage/aws and is handed in by the composition root, since
 * lib/outbound never imports the AWS SDK). The settings are the outbound section of lib/core/config.ts
 * (read once; this takes its shape, `config.outbound`, without depending on the rest of it).
 */
import { isIP } from 'node:net';
import type { Logger } from '../../core/log.ts';
import type { Transport } from '../../core/outbound.ts';
import type { Resolver } from '../../pipeline/dns.ts';
import { mailauthMtaSts } from './mtaSts.ts';
import { MxTransport } from './mx.ts';
import { OutboxTransport, outboxDir } from './outbox.ts';
import { SmarthostTransport } from './smarthost.ts';
import type { SmtpTimeouts, TlsMode } from './smtpSession.ts';

export type TransportKind = 'outbox' | 'smarthost' | 'mx' | 'ses';

/** The outbound settings the factory reads (OutboundConfig of lib/core/config.ts has this shape). */
export interface TransportSettings {
  readonly transport: TransportKind;
  /** POSTERN_SMARTHOST, POSTERN_SMARTHOST_USER / _PASSWORD, POSTERN_SMARTHOST_TLS; required for `smarthost`. */
  readonly smarthost?: {
    readonly host: string;
    readonly port: number;
    readonly user?: string;
    readonly password?: string;
    readonly tls: TlsMode;
  };
}

export interface TransportDeps {
  /** Our name in EHLO (config.hostname). */
  readonly heloName: string;
  /** The emulator's data directory (outbox). */
  readonly dataDir?: string;
  /** DNS for `mx` (lib/pipeline/dns.ts: the system resolver, a stub in tests). */
  readonly resolver?: Resolver;
  /** Builds the SES transport (lib/storage/aws). */
  readonly ses?: () => Transport;
  /** MX port: 25 unless a test says otherwise. */
  readonly mxPort?: number;
  /** Deliver to loopback and private MX addresses (tests only). */
  readonly mxAllowPrivateAddresses?: boolean;
  /** Look up and enforce MTA-STS policies (RFC 8461) for `mx`; default true. */
  readonly mtaSts?: boolean;
  /** PEM of extra CAs trusted for the smarthost's certificate (a private relay). */
  readonly smarthostCa?: string;
  readonly timeouts?: SmtpTimeouts;
  readonly log?: Logger;
}

export class TransportConfigError extends Error {}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

export function createTransport(settings: TransportSettings, deps: TransportDeps): Transport {
  switch (settings.transport) {
    case 'outbox':
      if (!deps.dataDir) throw new TransportConfigError('the outbox transport needs the data directory');
      return new OutboxTransport(outboxDir(deps.dataDir));
    case 'smarthost': {
      const relay = settings.smarthost;
      if (!relay) throw new TransportConfigError('POSTERN_SMARTHOST is not set');
      const auth = relay.user !== undefined ? { user: relay.user, pass: relay.password ?? '' } : undefined;
      if (auth && relay.tls === 'none' && !isLoopback(relay.host)) {
        throw new TransportConfigError(
          'POSTERN_SMARTHOST_TLS=none would send POSTERN_SMARTHOST_PASSWORD in the clear; only to a relay on loopback',
        );
      }
      return new SmarthostTransport({
        host: relay.host,
        port: relay.port,
        tls: relay.tls,
        auth,
        ca: deps.smarthostCa,
        // Credentials in the clear only to a relay on this machine, and only when TLS was turned off on purpose.
        allowPlaintextAuth: relay.tls === 'none' && isLoopback(relay.host),
        heloName: deps.heloName,
        timeouts: deps.timeouts,
        log: deps.log,
      });
    }
    case 'mx':
      if (!deps.resolver) throw new TransportConfigError('the mx transport needs a DNS resolver');
      return new MxTransport({
        resolver: deps.resolver,
        port: deps.mxPort ?? 25,
        heloName: deps.heloName,
        timeouts: deps.timeouts,
        allowPrivateAddresses: deps.mxAllowPrivateAddresses,
        log: deps.log,
        mtaSts: deps.mtaSts === false ? undefined : mailauthMtaSts({ resolver: deps.resolver }),
      });
    case 'ses':
      if (!deps.ses) throw new TransportConfigError('the ses transport is only available with AWS storage');
      return deps.ses();
  }
}
