/**
 * What the deliver step is built from, in both places it runs (the deliver Lambda, and the emulator's gateway
 * process): the transport POSTERN_OUTBOUND_TRANSPORT names, the DKIM signer and the DSN hook. Each part is
 * registered here by the module that implements it (transports in lib/outbound/transports and, for SES,
 * lib/storage/aws; the signer in lib/outbound/dkim*; DSNs in lib/outbound/dsn*).
 */
import type { OutboundConfig, TransportName } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import type { MessageSigner, Transport } from '../../core/outbound.ts';
import type { Storage } from '../../core/ports.ts';
import type { OutboundParts } from '../../outbound/deliver.ts';
import type { ReportOutcome } from '../../outbound/runnerReport.ts';

export interface OutboundFactories {
  readonly transports: Partial<Record<TransportName, (config: OutboundConfig, log: Logger) => Transport>>;
  readonly signer?: (storage: Storage) => MessageSigner;
  readonly reportOutcome?: (storage: Storage, log: Logger) => ReportOutcome;
}

/** The parts built into this program. No transport is registered yet: `deliver` then refuses to run. */
export const OUTBOUND_FACTORIES: OutboundFactories = { transports: {} };

/** The deliver step's parts, or undefined (with the reason logged) when the chosen transport is not built in. */
export function outboundParts(
  storage: Storage,
  config: OutboundConfig,
  log: Logger,
  factories: OutboundFactories = OUTBOUND_FACTORIES,
): OutboundParts | undefined {
  const make = factories.transports[config.transport];
  if (!make) {
    log.warn('outbound transport not available in this build: the queue is not worked', {
      transport: config.transport,
    });
    return undefined;
  }
  return {
    config,
    transport: make(config, log),
    signer: factories.signer?.(storage),
    reportOutcome: factories.reportOutcome?.(storage, log),
    log,
  };
}
