/**
 * Forwarding on the MX (RFC 5321 §3.9.1): the copies of a message for alias targets outside our domains, and
 * for the sender an SRS bounce address stands for, go to the outbound queue as they came (the text unchanged,
 * so the author's DKIM signature survives), with the envelope sender rewritten by SRS into the domain of the
 * address that forwarded, so SPF at the next hop checks our servers (RFC 7208 §11.3, lib/delivery/srs.ts).
 *
 * Mail the filter put in Junk (spam score at the threshold, DMARC quarantine) is not forwarded, as Postfix
 * setups with a spam filter in front and Gmail's forwarding do not: passing spam on gets our domain's
 * reputation blamed for it. A local copy still goes to Junk; when nothing else would receive the message it
 * is refused (550 5.7.1) rather than accepted and dropped.
 */
import type { Logger } from '../core/log.ts';
import type { OutboundQueue } from '../core/outbound.ts';
import { queueTarget } from '../delivery/queueTarget.ts';
import type { SrsCodec } from '../delivery/srs.ts';
import type { DeliveryTarget, RemoteRecipient } from '../delivery/types.ts';
import type { FilterResult } from '../pipeline/contracts.ts';
import { bodyTypeOf, type IncomingMessage } from './receive.ts';
import type { Recipient } from './recipients.ts';

export interface ForwardDeps {
  readonly queue: OutboundQueue;
  readonly srs: SrsCodec;
  /** The SRS domain of a recipient written without one (the bare `postmaster`, RFC 5321 §4.1.1.3). */
  readonly hostname: string;
  readonly onEnqueued?: () => void;
}

/** The remote copies of one message, each with its SRS envelope sender; none when the filter said spam. */
export function forwardedCopies(
  recipients: readonly Recipient[],
  mailFrom: string,
  verdict: Pick<FilterResult, 'mailbox'>,
  deps: ForwardDeps | undefined,
  log: Logger,
): RemoteRecipient[] {
  const forwarding = recipients.filter((r) => r.forward.length > 0);
  if (!deps || forwarding.length === 0) return [];
  if (verdict.mailbox === 'Junk') {
    log.info('spam not forwarded', { recipients: forwarding.map((r) => r.address) });
    return [];
  }
  return forwarding.flatMap((r) => {
    const at = r.address.lastIndexOf('@');
    const domain = at > 0 ? r.address.slice(at + 1).toLowerCase() : deps.hostname;
    const sender = deps.srs.forward(mailFrom, domain);
    return r.forward.map((copy) => ({ ...copy, mailFrom: sender }));
  });
}

/**
 * The queue target for the forwarded copies: one enqueue under the message's idempotency key, each entry
 * asking the deliver step for an ARC set with the filter's results (sealed there, as DKIM is signed there:
 * only the deliver step holds private keys, and the seal must cover the message as it is finally sent).
 */
export function forwardTarget(
  deps: ForwardDeps,
  copies: readonly RemoteRecipient[],
  verdict: Pick<FilterResult, 'arc'>,
  msg: IncomingMessage,
  log: Logger,
): DeliveryTarget {
  const options = { headerPrefix: '', ...bodyTypeOf(msg), ...(verdict.arc ? { arcSeal: verdict.arc } : {}) };
  return queueTarget(deps.queue, copies, options, log, deps.onEnqueued);
}
