/**
 * `admin queue list|show|retry|delete`: the operator's view of the outbound queue, over the OutboundQueue port.
 * Each returns the lines to print; an unknown entry is a NotFoundError (exit code 2).
 */
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { isPendingRecipient, type OutboundQueue, type QueueEntry, type RecipientStatus } from '../core/outbound.ts';

/** A queue id as `admin queue list` prints it: a ULID (Crockford base32). */
export function checkQueueId(id: string): string {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) throw new InvalidInputError(`not a queue id: ${JSON.stringify(id)}`);
  return id.toUpperCase();
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());
const sender = (e: QueueEntry) => (e.mailFrom === '' ? '<>' : e.mailFrom);

function counts(e: QueueEntry): string {
  const n = (s: RecipientStatus) => e.recipients.filter((r) => r.status === s).length;
  const pending = e.recipients.filter(isPendingRecipient).length;
  return `pending=${pending} delivered=${n('delivered')} failed=${n('failed')}`;
}

/** One line per entry, pending ones first (soonest due first), then finished ones. */
export async function queueList(queue: OutboundQueue): Promise<string[]> {
  const lines: string[] = [];
  for await (const e of queue.list()) {
    const pending = e.recipients.some(isPendingRecipient);
    const when = pending ? `next ${iso(e.nextAttemptAt)}` : `done ${iso(e.nextAttemptAt)}`;
    lines.push(`${e.id}  ${e.domain}  from ${sender(e)}  ${counts(e)}  attempts=${e.attempts}  ${when}`);
  }
  return lines.length ? lines : ['queue is empty'];
}

export async function queueShow(queue: OutboundQueue, input: string): Promise<string[]> {
  const id = checkQueueId(input);
  const e = await queue.get(id);
  if (!e) throw new NotFoundError(`no queue entry ${id}`);
  const lines = [
    `id: ${e.id}`,
    `domain: ${e.domain}`,
    `from: ${sender(e)}`,
    `size: ${e.size}`,
    `blob: ${e.blobKey}`,
    `created: ${iso(e.createdAt)}`,
    `attempts: ${e.attempts}`,
    `${e.recipients.some(isPendingRecipient) ? 'next attempt' : 'finished'}: ${iso(e.nextAttemptAt)}`,
  ];
  if (e.accountId) lines.push(`account: ${e.accountId}`);
  if (e.envId !== undefined) lines.push(`envid: ${e.envId}`);
  if (e.ret) lines.push(`ret: ${e.ret}`);
  lines.push('recipients:');
  for (const r of e.recipients) {
    const notify = r.notify === undefined ? '' : `  notify=${r.notify.length ? r.notify.join(',') : 'NEVER'}`;
    const where = r.remoteMta ? `  via ${r.remoteMta}` : '';
    lines.push(`  ${r.address}  ${r.status}  attempts=${r.attempts}  last ${iso(r.lastAttemptAt)}${where}${notify}`);
    if (r.lastReply) lines.push(`    ${r.lastReply}`);
  }
  return lines;
}

export async function queueRetry(queue: OutboundQueue, input: string): Promise<string[]> {
  const id = checkQueueId(input);
  if (!(await queue.retryNow(id))) throw new NotFoundError(`no queue entry ${id} with recipients pending`);
  return [`${id} is due now: the next queue run tries its pending recipients`];
}

export async function queueDelete(queue: OutboundQueue, input: string): Promise<string[]> {
  const id = checkQueueId(input);
  if (!(await queue.remove(id))) throw new NotFoundError(`no queue entry ${id}`);
  return [`deleted ${id}: its pending recipients will not be tried (no report is sent)`];
}
