/**
 * The gateway process: Fargate's entry point, and the child process the emulator starts. Configuration
 * comes from the environment only (lib/core/config.ts, lib/core/schema.ts).
 */
import { loadGatewayConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import type { Invoker } from '../core/ports.ts';
import { namesFromEnv } from '../core/schema.ts';
import { createHandlers } from '../pipeline/handlers.ts';
import { LambdaInvoker, LocalInvoker } from '../pipeline/invoker.ts';
import { endpointsFromEnv } from '../storage/aws/clients.ts';
import { createAwsStorage } from '../storage/storage.ts';
import { startGateway } from './gateway.ts';
import { loadTls } from './tls.ts';

const log = createLogger({ fields: { component: 'gateway' } });

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const storage = createAwsStorage(endpointsFromEnv(), namesFromEnv());
  // Locally the mail-logic functions run in this process; in AWS they are Lambdas.
  const invoker: Invoker =
    process.env.POSTERN_INVOKER === 'local' ? new LocalInvoker(createHandlers(storage)) : LambdaInvoker.fromEnv();
  const tls = await loadTls(config);
  const gateway = await startGateway({ config, storage, invoker, tls, log });
  log.info('ready', { ports: Object.fromEntries(gateway.listeners.map((l) => [l.name, l.port])) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('draining', { signal });
    await gateway.close(Number(process.env.POSTERN_DRAIN_MS ?? 10_000));
    storage.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  log.error('gateway failed to start', { err });
  process.exit(1);
});
