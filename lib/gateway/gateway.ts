import { createImapListeners } from '../imap/server.ts';
import type { Listener } from '../net/types.ts';
import { createPop3Listeners } from '../pop3/server.ts';
import { createSmtpListeners } from '../smtp/server.ts';
import type { GatewayDeps } from './types.ts';

export interface Gateway {
  readonly listeners: readonly Listener[];
  close(graceMs?: number): Promise<void>;
}

/** Starts every protocol listener; resolves once all of them accept connections. */
export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const listeners = [...createSmtpListeners(deps), ...createPop3Listeners(deps), ...createImapListeners(deps)];
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
