import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { noMetrics, type Protocol } from '../core/metrics.ts';
import { createImapListeners } from '../imap/server.ts';
import { fitConnectionCaps, readFdSoftLimit } from '../net/connectionBudget.ts';
import type { Listener } from '../net/types.ts';
import { createPop3Listeners } from '../pop3/server.ts';
import { createSmtpListeners } from '../smtp/server.ts';
import { countingFailedLogins, sampleConnections } from './metricsWiring.ts';
import type { GatewayDeps } from './types.ts';

export interface Gateway {
  readonly listeners: readonly Listener[];
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** The process's file-descriptor limit (default: read from /proc/self/limits; tests give their own). */
  readonly fdLimit?: number;
}

/** Starts every protocol listener; resolves once all of them accept connections. */
export async function startGateway(deps: GatewayDeps, opts: StartOptions = {}): Promise<Gateway> {
  const config = withCapsThatFit(deps.config, 'fdLimit' in opts ? opts.fdLimit : readFdSoftLimit(), deps.log);
  const fitted = { ...deps, config };
  const metrics = deps.metrics ?? noMetrics;
  const loginsOf = (protocol: Protocol) => countingFailedLogins(deps.authenticator, metrics, protocol);
  const listeners = [
    ...createSmtpListeners({ ...fitted, authenticator: loginsOf('submission') }),
    ...createPop3Listeners({ ...fitted, authenticator: loginsOf('pop3') }),
    ...createImapListeners({ ...fitted, authenticator: loginsOf('imap') }),
  ];
  sampleConnections(metrics, listeners);
  try {
    await Promise.all(listeners.map((l) => l.listen()));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close(0)));
    throw err;
  }
  return {
    listeners,
    close: async (graceMs) => {
      await Promise.all(listeners.map((l) => l.close(graceMs)));
    },
  };
}

/**
 * The configuration with connection caps that fit the descriptor limit: scaled down with a warning rather
 * than refusing to start, so that a host with a low `ulimit -n` still serves (fewer clients at once) and a
 * flood can never take the descriptors storage needs. Throws when not even one connection per listener fits.
 */
function withCapsThatFit(config: Config, fdLimit: number | undefined, log: Logger): Config {
  const fit = fitConnectionCaps(config.net, fdLimit);
  if (!fit.scaled) return config;
  log.warn('connection caps scaled down to fit the file-descriptor limit', {
    fdLimit,
    fdReserve: config.net.fdReserve,
    needed: fit.needed,
    available: fit.available,
    configured: config.net.maxConnections,
    maxConnections: fit.maxConnections,
  });
  return { ...config, net: { ...config.net, maxConnections: fit.maxConnections } };
}
