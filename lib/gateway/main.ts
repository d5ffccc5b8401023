/**
 * The gateway process: Fargate's entry point, and the child process the emulator starts. The one place
 * that reads the environment (loadConfig) and wires the AWS adapters to the protocols.
 */
import { createAuthenticator } from '../auth/authenticator.ts';
import { type Config, loadConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { Invoker, Storage } from '../core/ports.ts';
import { DeliverKicker } from '../outbound/deliverKicker.ts';
import { createHandlers } from '../pipeline/handlers.ts';
import { LocalInvoker } from '../pipeline/invoker.ts';
import { LambdaInvoker } from '../storage/aws/lambdaInvoker.ts';
import { outboundParts } from '../storage/aws/queueWiring.ts';
import { createAwsStorage } from '../storage/aws/storage.ts';
import { InProcessChangeNotifier } from '../storage/changeNotifier.ts';
import { startGateway } from './gateway.ts';
import { loadTls } from './tls.ts';

/** The invoker, and whether `deliver` can run (in AWS the Lambda has its own parts; locally they must be built in). */
function createInvoker(config: Config, storage: Storage, log: Logger): { invoker: Invoker; delivers: boolean } {
  // Locally the mail-logic functions run in this process; in AWS they are Lambdas.
  if (config.invoker.kind === 'lambda') {
    return { invoker: LambdaInvoker.create(config.invoker.functionNames), delivers: true };
  }
  const outbound = outboundParts(storage, config.outbound, {
    endpoints: config.aws.endpoints,
    dkim: config.dkim,
    log: log.child({ component: 'deliver' }),
  });
  const onEventError = (fn: string, err: unknown) => log.warn(`${fn} failed`, { err });
  return { invoker: new LocalInvoker(createHandlers(storage, { outbound }), onEventError), delivers: !!outbound };
}

/**
 * Runs `deliver` after each enqueue (kickQueue) and, in the emulator, on a timer (in AWS an EventBridge rule
 * runs it every minute, and a kick is an asynchronous invocation).
 */
function startDeliverKicker(config: Config, invoker: Invoker, delivers: boolean, log: Logger): DeliverKicker {
  // Locally a kick runs the pass in this process and waits for it (so kicks fold); in AWS it only starts one.
  const run =
    config.invoker.kind === 'local' ? () => invoker.invoke('deliver', {}) : () => invoker.invokeEvent!('deliver', {});
  // In AWS at most one Lambda start a second per task: the runner it starts takes every entry due by then.
  const spacing = config.invoker.kind === 'local' ? 0 : 1000;
  const kicker = new DeliverKicker(delivers ? run : async () => {}, log, spacing);
  if (config.invoker.kind === 'local' && delivers) kicker.start(config.outbound.pollMs);
  return kicker;
}

async function main(log: Logger, config: Config): Promise<void> {
  // One notifier for the process: the mail store tells it of each commit, IMAP sessions in IDLE listen.
  const notifier = new InProcessChangeNotifier((err) => log.warn('change listener failed', { err }));
  const storage = createAwsStorage(config.aws, { notifier });
  const tls = await loadTls(config.tls);
  const { invoker, delivers } = createInvoker(config, storage, log);
  const kicker = startDeliverKicker(config, invoker, delivers, log);
  const gateway = await startGateway({
    config,
    storage,
    invoker,
    kickQueue: () => kicker.kick(),
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
    await kicker.stop();
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
