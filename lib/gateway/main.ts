/**
 * The gateway process: Fargate's entry point, and the child process the emulator starts. The one place
 * that reads the environment (loadConfig) and wires the AWS adapters to the protocols.
 */
import { createAuthenticator } from '../auth/authenticator.ts';
import { type Config, loadConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { Invoker, Storage } from '../core/ports.ts';
import { createHandlers } from '../pipeline/handlers.ts';
import { LocalInvoker } from '../pipeline/invoker.ts';
import { LambdaInvoker } from '../storage/aws/lambdaInvoker.ts';
import { createAwsStorage } from '../storage/aws/storage.ts';
import { InProcessChangeNotifier } from '../storage/changeNotifier.ts';
import { startGateway } from './gateway.ts';
import { loadTls } from './tls.ts';

function createInvoker(config: Config, storage: Storage): Invoker {
  // Locally the mail-logic functions run in this process; in AWS they are Lambdas.
  return config.invoker.kind === 'local'
    ? new LocalInvoker(createHandlers(storage))
    : LambdaInvoker.create(config.invoker.functionNames);
}

async function main(log: Logger, config: Config): Promise<void> {
  // One notifier for the process: the mail store tells it of each commit, IMAP sessions in IDLE listen.
  const notifier = new InProcessChangeNotifier((err) => log.warn('change listener failed', { err }));
  const storage = createAwsStorage(config.aws, { notifier });
  const tls = await loadTls(config.tls);
  const gateway = await startGateway({
    config,
    storage,
    invoker: createInvoker(config, storage),
    authenticator: createAuthenticator(storage.directory, config.auth, { log }),
    tls,
    log,
    notifier,
  });
  log.info('ready', { ports: Object.fromEntries(gateway.listeners.map((l) => [l.name, l.port])) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('draining', { signal });
    await gateway.close(config.drainMs);
    storage.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  createLogger({ fields: { component: 'gateway' } }).error('bad configuration', { err });
  process.exit(2);
}
const log = createLogger({ level: config.logLevel, fields: { component: 'gateway' } });
main(log, config).catch((err) => {
  log.error('gateway failed to start', { err });
  process.exit(1);
});
