import type { Authenticator } from '../auth/authenticator.ts';
import type { Config } from '../core/config.ts';
import type { Metrics } from '../core/metrics.ts';
import type { OutboundQueue } from '../core/outbound.ts';
import type { ChangeNotifier, Invoker, Storage } from '../core/ports.ts';
import type { ListenerContext } from '../net/types.ts';

/** Everything the gateway's listeners are built from (each protocol takes the part it needs). */
export interface GatewayDeps extends ListenerContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly invoker: Invoker;
  readonly authenticator: Authenticator;
  /** The notifier the mail store publishes to, for IMAP IDLE (absent: sessions poll the store). */
  readonly notifier?: ChangeNotifier;
  /** Starts the deliver function now: call after an enqueue so the message leaves without waiting for a tick. */
  readonly kickQueue?: () => void;
  /**
   * The outbound queue that submission enqueues remote recipients into (the DynamoDB adapter, tests inject
   * a double); absent: `storage.queue`.
   */
  readonly queue?: OutboundQueue;
  /** Where the gateway's metrics go (lib/core/metrics.ts; absent: nowhere). The caller flushes it. */
  readonly metrics?: Metrics;
}
