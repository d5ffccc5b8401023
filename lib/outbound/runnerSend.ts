/**
 * One attempt at one queue entry, as outcomes per recipient: the message prepared (signed), handed to the
 * transport, and every way that can fail turned into a deferral or a failure with a reply of ours.
 */
import { NotFoundError } from '../core/errors.ts';
import { isPendingRecipient, type OutboundEnvelope, type QueueEntry, type RecipientOutcome } from '../core/outbound.ts';
import { outgoingMessage } from './deliverMessage.ts';
import type { RunnerDeps } from './runner.ts';
import { expired, type RetryPolicy } from './schedule.ts';

/** The reply we record when no server gave one. */
const ours = (code: string, text: string) => `${code} ${text}`;

/** Every pending recipient gets this outcome (the message or the next hop could not be reached at all). */
const allPending = (entry: QueueEntry, result: RecipientOutcome['result'], reply: string): RecipientOutcome[] =>
  entry.recipients.filter(isPendingRecipient).map((r) => ({ address: r.address, result, reply }));

function envelopeOf(entry: QueueEntry): OutboundEnvelope {
  const pending = entry.recipients.filter(isPendingRecipient);
  const dsnRecipients = Object.fromEntries(pending.map((r) => [r.address, { notify: r.notify, orcpt: r.orcpt }]));
  return {
    mailFrom: entry.mailFrom,
    domain: entry.domain,
    recipients: pending.map((r) => r.address),
    eightBit: entry.eightBit === true,
    smtpUtf8: entry.smtpUtf8 === true,
    dsn: { envId: entry.envId, ret: entry.ret, recipients: dsnRecipients },
  };
}

/** What a failure to read the queued message means for its recipients. */
function unreadable(entry: QueueEntry, err: unknown): RecipientOutcome[] {
  // A missing blob will stay missing; anything else (S3, the key store) may recover.
  if (err instanceof NotFoundError) {
    return allPending(entry, 'failed', ours('554', '5.3.0 message text missing from the queue store'));
  }
  return allPending(entry, 'deferred', ours('451', '4.3.0 message could not be read or signed, will retry'));
}

/**
 * Sends the entry once; never throws: every way it can go wrong is an outcome per recipient. A failure to
 * read the message inside the transport (its `open`) is told apart from the next hop failing.
 */
export async function send(deps: RunnerDeps, entry: QueueEntry): Promise<RecipientOutcome[]> {
  let message: Awaited<ReturnType<typeof outgoingMessage>>;
  try {
    message = await outgoingMessage(deps.blobs, entry, deps.signer);
  } catch (err) {
    deps.log.warn('queued message could not be prepared', { entry: entry.id, err });
    return unreadable(entry, err);
  }
  let readError: unknown;
  const open = () =>
    message.open().catch((err) => {
      readError = err;
      throw err;
    });
  try {
    const outcomes = await deps.transport.deliver(envelopeOf(entry), open, message.size);
    return readError === undefined ? outcomes : unreadable(entry, readError);
  } catch (err) {
    if (readError !== undefined) return unreadable(entry, readError);
    deps.log.warn('transport failed', { entry: entry.id, transport: deps.transport.name, err });
    return allPending(entry, 'deferred', ours('451', `4.4.0 ${deps.transport.name} transport failed, will retry`));
  }
}

/**
 * One outcome per pending recipient: a recipient the transport said nothing about is deferred, and a deferral
 * past the queue lifetime is a failure (its reply kept, for the DSN's diagnostic).
 */
export function settle(
  entry: QueueEntry,
  outcomes: readonly RecipientOutcome[],
  at: number,
  policy: RetryPolicy,
): { outcomes: RecipientOutcome[]; expired: Set<string> } {
  const given = new Map(outcomes.map((o) => [o.address, o]));
  const tooOld = expired(policy, entry.createdAt, at);
  const gaveUp = new Set<string>();
  const settled = entry.recipients.filter(isPendingRecipient).map((r): RecipientOutcome => {
    const o = given.get(r.address) ?? { address: r.address, result: 'deferred', reply: ours('451', '4.3.0 no result') };
    if (o.result !== 'deferred' || !tooOld) return o;
    gaveUp.add(r.address);
    return { ...o, result: 'failed' };
  });
  return { outcomes: settled, expired: gaveUp };
}
