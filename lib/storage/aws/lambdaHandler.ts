import { loadAwsConfig, loadDkimConfig, loadOutboundConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { createEmfMetrics, type Metrics } from '../../core/metrics.ts';
import type { FunctionName, Storage } from '../../core/ports.ts';
import { createHandlers, type HandlerOptions } from '../../pipeline/handlers.ts';
import type { Handler } from '../../pipeline/invoker.ts';
import { outboundParts } from './queueWiring.ts';
import { sesFeedbackParts } from './sesFeedbackWiring.ts';
import { createAwsStorage } from './storage.ts';

/**
 * The deliver Lambda alone gets the outbound parts (transport, DKIM signer, DSNs): only it holds the keys.
 * The sesFeedback Lambda gets the suppression list and the DSN path.
 */
function optionsFor(name: FunctionName, storage: Storage, metrics: Metrics): HandlerOptions {
  if (name !== 'deliver' && name !== 'sesFeedback') return {};
  const log = createLogger({ fields: { component: name } });
  const endpoints = loadAwsConfig(process.env).endpoints;
  const outbound = loadOutboundConfig(process.env);
  if (name === 'sesFeedback') return { sesFeedback: sesFeedbackParts(storage, outbound, { endpoints, log }) };
  const dkim = loadDkimConfig(process.env);
  return { outbound: outboundParts(storage, outbound, { endpoints, dkim, log, metrics }) };
}

/**
 * A Lambda entry point for one mail-logic function: the same library handler the emulator runs in-process.
 * Configuration is read once per container, storage clients are built on the first invocation and reused for
 * the life of the container.
 */
export function lambdaHandler(name: FunctionName): Handler {
  let cached: Handler | undefined;
  // EMF lines in the function's log group; flushed at the end of each invocation (the container may freeze)
  const metrics = createEmfMetrics({ sink: (line) => process.stdout.write(`${line}\n`) });
  return async (event) => {
    if (!cached) {
      const storage = createAwsStorage(loadAwsConfig(process.env));
      cached = createHandlers(storage, optionsFor(name, storage, metrics))[name];
    }
    try {
      return await cached(event);
    } finally {
      metrics.flush();
    }
  };
}
