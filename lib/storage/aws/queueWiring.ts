/**
 * What the deliver step is built from, in both places it runs (the deliver Lambda, and the emulator's gateway
 * process): the transport POSTERN_OUTBOUND_TRANSPORT names, the DKIM signer over the configured key store, and
 * the DSN hook, which sends reports through the one ingestion path (lib/delivery/systemMail.ts: local senders'
 * mailboxes at once, remote ones through the queue).
 */
import type { AwsEndpoints, DkimConfig, OutboundConfig, TransportName } from '../../core/config.ts';
import { ulid } from '../../core/ids.ts';
import type { Logger } from '../../core/log.ts';
import type { MessageSigner, Transport } from '../../core/outbound.ts';
import type { Storage } from '../../core/ports.ts';
import { systemMailSenderOver } from '../../delivery/systemMail.ts';
import type { OutboundParts } from '../../outbound/deliver.ts';
import { openEntry } from '../../outbound/deliverMessage.ts';
import { sendRunnerReport } from '../../outbound/dsnReport.ts';
import type { ReportOutcome } from '../../outbound/runnerReport.ts';
import { createTransport } from '../../outbound/transports/index.ts';
import { systemResolver } from '../../pipeline/dns.ts';
import { createHandlers } from '../../pipeline/handlers.ts';
import { LocalInvoker } from '../../pipeline/invoker.ts';
import { openDkimSigner } from '../dkimKeyStore.ts';
import { createSesTransport } from './sesTransport.ts';

/** What the parts need besides the outbound settings. */
export interface OutboundContext {
  readonly endpoints: AwsEndpoints;
  readonly dkim: DkimConfig;
  readonly log: Logger;
}

export interface OutboundFactories {
  readonly transports: Partial<Record<TransportName, (config: OutboundConfig, ctx: OutboundContext) => Transport>>;
  readonly signer?: (storage: Storage, config: OutboundConfig, ctx: OutboundContext) => MessageSigner;
  readonly reportOutcome?: (storage: Storage, config: OutboundConfig, ctx: OutboundContext) => ReportOutcome;
}

const transportOf = (config: OutboundConfig, ctx: OutboundContext) =>
  createTransport(config, {
    heloName: config.hostname,
    dataDir: config.dataDir,
    resolver: systemResolver(),
    ses: () => createSesTransport(ctx.endpoints, { log: ctx.log }),
    log: ctx.log,
  });

/**
 * DSNs go out as mail of ours: route and store run in this process over the same storage (the deliver
 * function is allowed what the store function is), remote senders' reports are enqueued.
 */
function dsnHook(storage: Storage, config: OutboundConfig, ctx: OutboundContext): ReportOutcome {
  const sender = systemMailSenderOver(new LocalInvoker(createHandlers(storage)), {
    blobs: storage.blobs,
    queue: storage.queue,
    log: ctx.log,
  });
  return (report) =>
    sendRunnerReport(report, {
      hostname: config.hostname,
      sender,
      openMessage: (entry) => openEntry(storage.blobs, entry)(),
      policy: { delayWarningMs: config.delayWarningMs, lifetimeMs: config.queueLifetimeMs },
      newId: ulid,
      log: ctx.log,
    });
}

/** The parts built into this program. */
export const OUTBOUND_FACTORIES: OutboundFactories = {
  transports: { outbox: transportOf, smarthost: transportOf, mx: transportOf, ses: transportOf },
  signer: (_storage, config, ctx) => openDkimSigner(ctx.dkim, { dataDir: config.dataDir, logger: ctx.log }).signer,
  reportOutcome: dsnHook,
};

/** The deliver step's parts, or undefined (with the reason logged) when the chosen transport is not built in. */
export function outboundParts(
  storage: Storage,
  config: OutboundConfig,
  ctx: OutboundContext,
  factories: OutboundFactories = OUTBOUND_FACTORIES,
): OutboundParts | undefined {
  const make = factories.transports[config.transport];
  if (!make) {
    ctx.log.warn('outbound transport not available in this build: the queue is not worked', {
      transport: config.transport,
    });
    return undefined;
  }
  return {
    config,
    transport: make(config, ctx),
    signer: factories.signer?.(storage, config, ctx),
    reportOutcome: factories.reportOutcome?.(storage, config, ctx),
    log: ctx.log,
  };
}
