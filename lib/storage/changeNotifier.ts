/**
 * The ChangeNotifier within one process: every session of a gateway task hears what any writer of that
 * task committed (its own sessions, an in-process store step). Events go out on a microtask, after the
 * writer's call returned its result, and one listener's failure reaches none of the others. A notifier
 * that crosses tasks (DynamoDB Streams on the changes table, or IoT) implements the same port; sessions
 * catch up from the change log either way, so they never depend on seeing every event.
 */
import type { ChangeNotifier, MailboxEvent, NotifyScope } from '../core/ports.ts';

type Listener = (event: MailboxEvent) => void;

const scopeKey = (accountId: string, mailboxId?: string) =>
  mailboxId === undefined ? accountId : `${accountId}#${mailboxId}`;
const mailboxOf = (event: MailboxEvent) => (event.type === 'messages' ? event.change.mailboxId : event.mailboxId);

export class InProcessChangeNotifier implements ChangeNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** `onListenerError` hears what a listener threw (a logger); the other listeners are served regardless. */
  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  publish(event: MailboxEvent): void {
    const targets = [
      ...(this.listeners.get(scopeKey(event.accountId, mailboxOf(event))) ?? []),
      ...(this.listeners.get(scopeKey(event.accountId)) ?? []),
    ];
    if (targets.length === 0) return;
    queueMicrotask(() => {
      for (const listener of targets) {
        try {
          listener(event);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    });
  }

  subscribe(scope: NotifyScope, listener: Listener): () => void {
    const key = scopeKey(scope.accountId, scope.mailboxId);
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    // a wrapper of its own, so subscribing one function twice gives two independent subscriptions
    const entry: Listener = (event) => listener(event);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  /** Subscriptions currently held (tests, and a gauge for the gateway's metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
