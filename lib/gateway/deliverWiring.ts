/**
 * How the gateway process works the outbound queue: the invoker (locally the mail-logic functions, `deliver`
 * with its transport, signer and DSN hook, run in this process; in AWS they are Lambdas) and the kicker that
 * starts `deliver` after each enqueue and, in the emulator, on a timer. The gateway's main and the end-to-end
 * tests' in-process gateway (test/support/gateway.ts) build the same parts from here.
 */
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Invoker, Storage } from '../core/ports.ts';
import { DeliverKicker } from '../outbound/deliverKicker.ts';

/**
 * The invoker, and whether `deliver` can run (in AWS the Lambda has its own parts; locally they must be built in).
 * Each kind is imported only when chosen: the mail-logic functions and the outbound parts (mailauth, transports,
 * DKIM, SES client: ~30 MB of RSS) load only in the emulator, the Lambda client only in AWS.
 */
export async function createInvoker(
  config: Config,
  storage: Storage,
  log: Logger,
  metrics?: Metrics,
): Promise<{ invoker: Invoker; delivers: boolean }> {
  // Locally the mail-logic functions run in this process; in AWS they are Lambdas.
  if (config.invoker.kind === 'lambda') {
    const { LambdaInvoker } = await import('../storage/aws/lambdaInvoker.ts');
    return { invoker: LambdaInvoker.create(config.invoker.functionNames), delivers: true };
  }
  const [{ outboundParts }, { createHandlers }, { LocalInvoker }] = await Promise.all([
    import('../storage/aws/queueWiring.ts'),
    import('../pipeline/handlers.ts'),
    import('../pipeline/invoker.ts'),
  ]);
  const outbound = outboundParts(storage, config.outbound, {
    endpoints: config.aws.endpoints,
    dkim: config.dkim,
    log: log.child({ component: 'deliver' }),
    metrics,
  });
  const onEventError = (fn: string, err: unknown) => log.warn(`${fn} failed`, { err });
  return { invoker: new LocalInvoker(createHandlers(storage, { outbound }), onEventError), delivers: !!outbound };
}

/**
 * Runs `deliver` after each enqueue (kickQueue) and, in the emulator, on a timer (in AWS an EventBridge rule
 * runs it every minute, and a kick is an asynchronous invocation).
 */
export function startDeliverKicker(config: Config, invoker: Invoker, delivers: boolean, log: Logger): DeliverKicker {
  // Locally a kick runs the pass in this process and waits for it (so kicks fold); in AWS it only starts one.
  const run =
    config.invoker.kind === 'local' ? () => invoker.invoke('deliver', {}) : () => invoker.invokeEvent!('deliver', {});
  // In AWS at most one Lambda start a second per task: the runner it starts takes every entry due by then.
  const spacing = config.invoker.kind === 'local' ? 0 : 1000;
  const kicker = new DeliverKicker(delivers ? run : async () => {}, log, spacing);
  if (config.invoker.kind === 'local' && delivers) kicker.start(config.outbound.pollMs);
  return kicker;
}
