/**
 * The gateway's metrics that no protocol needs to know about: open and opened connections per protocol
 * (read from the listeners at each flush) and failed logins per protocol (counted around the one shared
 * authenticator, so POP3, IMAP and submission still throttle together).
 */
import type { Authenticator } from '../auth/authenticator.ts';
import { LISTENER_FAMILY, type ListenerName } from '../core/config.ts';
import type { Metrics, Protocol } from '../core/metrics.ts';
import type { Listener } from '../net/types.ts';

/** Connections (gauge) and ConnectionsOpened (since the last flush) per protocol, sampled at each flush. */
export function sampleConnections(metrics: Metrics, listeners: readonly Listener[]): void {
  const seen = new Map<Listener, number>();
  metrics.onFlush(() => {
    const open = new Map<Protocol, number>();
    const opened = new Map<Protocol, number>();
    for (const listener of listeners) {
      const protocol = LISTENER_FAMILY[listener.name as ListenerName];
      if (!protocol) continue;
      open.set(protocol, (open.get(protocol) ?? 0) + listener.connections);
      opened.set(protocol, (opened.get(protocol) ?? 0) + listener.opened - (seen.get(listener) ?? 0));
      seen.set(listener, listener.opened);
    }
    for (const [protocol, n] of open) metrics.gauge('Connections', { Protocol: protocol }, n);
    for (const [protocol, n] of opened) if (n > 0) metrics.count('ConnectionsOpened', { Protocol: protocol }, n);
  });
}

/** The authenticator, counting each refused login (wrong password or throttled) under `protocol`. */
export function countingFailedLogins(auth: Authenticator, metrics: Metrics, protocol: Protocol): Authenticator {
  return {
    async authenticate(credentials) {
      const result = await auth.authenticate(credentials);
      if (!result.ok) metrics.count('LoginsFailed', { Protocol: protocol });
      return result;
    },
  };
}
