/** Queue entries for unit tests of the pure DSN decisions (no queue behind them). */
import type { QueuedRecipient, QueueEntry } from '../../lib/core/outbound.ts';

export const ENTRY_CREATED = Date.UTC(2026, 11, 2, 8, 0, 0);

export function queuedRecipient(address: string, over: Partial<QueuedRecipient> = {}): QueuedRecipient {
  return { address, status: 'scheduled', attempts: 0, ...over };
}

/** Entry `01JENTRY` from alice@example.org to remote.test, arrived at ENTRY_CREATED, not yet attempted. */
export function queueEntry(recipients: QueuedRecipient[], over: Partial<QueueEntry> = {}): QueueEntry {
  return {
    id: '01JENTRY',
    domain: 'remote.test',
    mailFrom: 'alice@example.org',
    blobKey: 'messages/01JENTRY',
    headerPrefix: '',
    size: 100,
    createdAt: ENTRY_CREATED,
    nextAttemptAt: ENTRY_CREATED,
    attempts: 0,
    recipients,
    ...over,
  };
}
