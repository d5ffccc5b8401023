/**
 * SystemMailSender over the delivery targets: a message Postern composed itself (a DSN) is written to the
 * blob store, then committed to the recipient's mailboxes (local) or the outbound queue (remote), with the
 * null sender so nothing bounces back (RFC 3461 §6.2, RFC 5321 §4.5.5). The caller's idempotency key makes
 * a repeated send (the runner retrying after a crash) deliver once. Throws when the message is not
 * committed, so the caller tries again.
 */

import { ulid } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { OutboundQueue, SystemMailSender } from '../core/outbound.ts';
import type { BlobStore, Invoker } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import type { RouteRequest, RouteResult } from '../pipeline/contracts.ts';
import { deliveriesFor } from './copies.ts';
import { type LocalStoreDeps, localStoreTarget } from './localTarget.ts';
import { queueTarget } from './queueTarget.ts';
import { StoreBatcher } from './storeBatcher.ts';
import type { StoreRetryOptions } from './storeRetry.ts';
import { commitToTargets } from './targets.ts';
import { type AcceptedMessage, type DeliveryTarget, remoteRecipient } from './types.ts';

export interface SystemMailDeps {
  readonly blobs: BlobStore;
  readonly local: LocalStoreDeps;
  readonly queue: OutboundQueue;
  readonly route: (address: string) => Promise<RouteResult>;
  /** Called after an enqueue, so the queue's deliver step starts at once. */
  readonly onEnqueued?: () => void;
  readonly log: Logger;
}

/**
 * The sender over the mail-logic functions (route and store through `invoker`): what the deliver step
 * builds with the storage it has (`storage.blobs`, `storage.queue`) and its own invoker.
 */
export function systemMailSenderOver(
  invoker: Invoker,
  parts: Pick<SystemMailDeps, 'blobs' | 'queue' | 'onEnqueued' | 'log'> & { readonly retry?: StoreRetryOptions },
): SystemMailSender {
  return createSystemMailSender({
    ...parts,
    local: { batcher: new StoreBatcher(invoker), retry: parts.retry ?? { attempts: 3, retryDelayMs: 200 } },
    route: (recipient) => invoker.invoke<RouteRequest, RouteResult>('route', { recipient }),
  });
}

export function createSystemMailSender(deps: SystemMailDeps): SystemMailSender {
  return {
    async send({ recipient, text, idempotencyKey }) {
      const log = deps.log.child({ systemMail: idempotencyKey });
      const target = await targetFor(deps, recipient, log);
      if (!target) return;
      const messageId = ulid();
      const blobKey = `${MESSAGE_PREFIX}${messageId}`;
      const { size } = await deps.blobs.put(blobKey, text, 'message/rfc822');
      const message: AcceptedMessage = {
        messageId,
        blobKey,
        blobSize: size,
        mailFrom: '',
        idempotencyKey,
        internalDate: Date.now(),
      };
      const outcome = await commitToTargets(message, [target]);
      if (outcome.kind === 'failed') throw new Error(`system mail to ${recipient} not committed (${outcome.reason})`);
      if (!outcome.blobUsed) void deps.blobs.delete(blobKey).catch(() => {});
      log.info('system mail sent', { id: messageId, recipient });
    },
  };
}

/** The recipient's target; undefined (logged, nothing sent) for an address of ours that nobody has. */
async function targetFor(deps: SystemMailDeps, recipient: string, log: Logger): Promise<DeliveryTarget | undefined> {
  const routed = await deps.route(recipient);
  if (routed.kind === 'local' && routed.accounts.length > 0) {
    const deliveries = deliveriesFor([{ address: recipient, accounts: routed.accounts }], '', {
      mailbox: 'INBOX',
      headers: '',
    });
    return localStoreTarget(deps.local, deliveries, log);
  }
  if (routed.kind === 'not-local') {
    // a DSN asks for no DSN about itself (RFC 3461 §6.2: NOTIFY=NEVER)
    const remote = { ...remoteRecipient(recipient), notify: [] };
    return queueTarget(deps.queue, [remote], { headerPrefix: '' }, log, deps.onEnqueued);
  }
  log.warn('system mail recipient has no mailbox', { recipient, route: routed.kind });
  return undefined;
}
