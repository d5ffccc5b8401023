/**
 * The gateway process: Fargate's entry point, and the child process the emulator starts. The one place
 * that reads the environment (loadConfig) and wires the AWS adapters to the protocols.
 */
import { createAuthenticator } from '../auth/authenticator.ts';
import { type Config, loadConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createEmfMetrics, flushEvery, noMetrics } from '../core/metrics.ts';
import { createAwsStorage } from '../storage/aws/storage.ts';
import { createGatewayNotifier } from './changeFeedWiring.ts';
import { createInvoker, startDeliverKicker } from './deliverWiring.ts';
import { startGateway } from './gateway.ts';
import { serveTls, tlsReaderFor } from './tls.ts';

async function main(log: Logger, config: Config): Promise<void> {
  // One notifier for the process: the mail store tells it of each commit, IMAP sessions in IDLE listen; across
  // tasks it also hears the notify function's notices (config.notify).
  const changes = createGatewayNotifier(config, log);
  const { notifier } = changes;
  const storage = createAwsStorage(config.aws, { notifier });
  await changes.start(storage.mail);
  const reloadMs = config.tls.kind === 'none' ? 0 : config.tls.reloadMs;
  const served = await serveTls(tlsReaderFor(config.tls), { hostname: config.hostname, reloadMs, log });
  // SIGHUP: look for a new certificate now instead of at the next poll
  process.on('SIGHUP', () => void served.reloadNow());
  const metrics = config.metricsFlushMs > 0 ? createEmfMetrics({ sink: stdoutLine }) : noMetrics;
  const stopMetrics = config.metricsFlushMs > 0 ? flushEvery(metrics, config.metricsFlushMs) : () => {};
  const { invoker, delivers } = await createInvoker(config, storage, log, metrics);
  const kicker = startDeliverKicker(config, invoker, delivers, log);
  const gateway = await startGateway({
    config,
    storage,
    invoker,
    kickQueue: () => kicker.kick(),
    authenticator: createAuthenticator(storage.directory, config.auth, { log }),
    tls: served.tls,
    log,
    notifier,
    metrics,
  });
  log.info('ready', { ports: Object.fromEntries(gateway.listeners.map((l) => [l.name, l.port])) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('draining', { signal });
    await gateway.close(config.drainMs);
    await changes.stop();
    served.stop();
    await kicker.stop();
    stopMetrics();
    storage.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** EMF lines go beside the log lines: CloudWatch Logs extracts them from the task's log group. */
const stdoutLine = (line: string) => process.stdout.write(`${line}\n`);

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
