/**
 * What the deliver step is built from, in both places it runs (the deliver Lambda, and the emulator's gateway
 * process): the transport POSTERN_OUTBOUND_TRANSPORT names, the DKIM signer over the configured key store, and
 * the DSN hook, which sends reports through the one ingestion path (lib/delivery/systemMail.ts: local senders'
 * mailboxes at once, remote ones through the queue).
 */
import type { AwsEndpoints, DkimConfig, OutboundConfig, TransportName } from '../../core/config.ts';
import { ulid } from '../../core/ids.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { MessageSigner, Transport } from '../../core/outbound.ts';
import type { Storage } from '../../core/ports.ts';
import { systemMailSenderOver } from '../../delivery/systemMail.ts';
import type { OutboundParts } from '../../outbound/deliver.ts';
import { openEntry } from '../../outbound/deliverMessage.ts';
import { type ReportDeps, sendRunnerReport } from '../../outbound/dsnReport.ts';
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
  readonly metrics?: Metrics;
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
    ses: () => createSesTransport(ctx.endpoints, { log: ctx.log, configurationSet: config.sesConfigurationSet }),
    log: ctx.log,
  });

/**
 * What sending a DSN takes besides the message it is about: DSNs go out as mail of ours, route and store run
 * in this process over the same storage (the function is allowed what the store function is), remote
 * senders' reports are enqueued. Shared by the deliver step and the SES feedback step.
 */
export function dsnReportDeps(storage: Storage, config: OutboundConfig, log: Logger): Omit<ReportDeps, 'openMessage'> {
  const sender = systemMailSenderOver(new LocalInvoker(createHandlers(storage)), {
    blobs: storage.blobs,
    queue: storage.queue,
    log,
  });
  return {
    hostname: config.hostname,
    sender,
    policy: { delayWarningMs: config.delayWarningMs, lifetimeMs: config.queueLifetimeMs },
    newId: ulid,
    log,
  };
}

function dsnHook(storage: Storage, config: OutboundConfig, ctx: OutboundContext): ReportOutcome {
  const deps: ReportDeps = {
    ...dsnReportDeps(storage, config, ctx.log),
    openMessage: (entry) => openEntry(storage.blobs, entry)(),
  };
  return (report) => sendRunnerReport(report, deps);
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
    metrics: ctx.metrics,
  };
}
