/**
 * The gateway's ChangeNotifier as configured (config.notify): in-process only, or cross-task (the notice
 * listener, this task's presence record, refreshed while it runs, and the per-mailbox backstop).
 */
import { randomUUID } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { Config, NotifyConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { ChangeNotifier, MailStore } from '../core/ports.ts';
import { DynamoPresenceStore, type GatewayPresence } from '../storage/aws/changeFeedPresence.ts';
import { makeDynamoClient } from '../storage/aws/clients.ts';
import { listenForNotices } from '../storage/changeFeedUdp.ts';
import { InProcessChangeNotifier } from '../storage/changeNotifier.ts';
import { CrossTaskChangeNotifier } from '../storage/crossTaskNotifier.ts';

/** A presence record lives this long unrefreshed; refreshed every third of it, so two lost writes are harmless. */
export const PRESENCE_TTL_MS = 60_000;

export interface GatewayNotifier {
  readonly notifier: ChangeNotifier;
  /** Starts receiving (cross-task: binds, announces, runs the backstop); resolves once others can reach us. */
  start(mail: MailStore): Promise<void>;
  /** Withdraws the presence record and closes the listener. */
  stop(): Promise<void>;
}

export function createGatewayNotifier(config: Config, log: Logger): GatewayNotifier {
  const onError = (err: unknown) => log.warn('change listener failed', { err });
  if (config.notify.mode === 'in-process') {
    return { notifier: new InProcessChangeNotifier(onError), start: async () => {}, stop: async () => {} };
  }
  const notifier = new CrossTaskChangeNotifier(onError);
  const db = makeDynamoClient(config.aws.endpoints);
  const presence = new DynamoPresenceStore(db, config.aws.names);
  let stopListening: (() => Promise<void>) | undefined;
  let refresh: NodeJS.Timeout | undefined;
  let me: GatewayPresence | undefined;
  return {
    notifier,
    async start(mail) {
      const listener = await listenForNotices(config.notify.host, config.notify.port, (n) => notifier.receive(n));
      stopListening = () => listener.close();
      me = {
        taskId: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
        address: advertised(config.notify),
        port: listener.port,
      };
      await presence.announce(me, PRESENCE_TTL_MS);
      const self = me;
      refresh = setInterval(() => {
        presence.announce(self, PRESENCE_TTL_MS).catch((err) => log.warn('presence refresh failed', { err }));
      }, PRESENCE_TTL_MS / 3);
      refresh.unref();
      notifier.startBackstop(
        async (ref) => (await mail.getMailboxById(ref.accountId, ref.mailboxId))?.highestModseq,
        config.notify.backstopMs,
      );
      log.info('change notices', { address: me.address, port: me.port, backstopMs: config.notify.backstopMs });
    },
    async stop() {
      clearInterval(refresh);
      notifier.stopBackstop();
      if (me) await presence.withdraw(me.taskId).catch((err) => log.warn('presence withdraw failed', { err }));
      await stopListening?.();
      db.destroy();
    },
  };
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/** The address notices are sent to: as configured, else the bind address, else (any address) the first private IPv4. */
function advertised(notify: NotifyConfig): string {
  if (notify.advertiseAddress) return notify.advertiseAddress;
  if (!ANY_ADDRESS.has(notify.host)) return notify.host;
  // in a Fargate task (awsvpc) the one non-internal interface is the task's ENI
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return '127.0.0.1';
}
