/**
 * STATUS (RFC 9051 §6.3.11) from the mailbox's counters: SIZE is the sum of RFC822.SIZE (RFC 8438), MAILBOXID
 * the stable id (RFC 8474 §4.3), DELETED (RFC 9051) and DELETED-STORAGE (RFC 9208 §4.4, KiB) the \Deleted
 * counters. Only a mailbox older than those counters has its flag index read (and the \Deleted messages'
 * sizes), and only when they are asked for.
 */
import type { MailboxState } from '../../core/ports.ts';
import type { StatusItem } from '../codec/index.ts';
import { type StatusValue, statusResponse, tagged } from '../codec/index.ts';
import type { ImapSession } from '../session.ts';
import { AUTHENTICATED, command } from './types.ts';

const DELETED_FLAG = '\\Deleted';

/** Bytes as RFC 9208 counts storage: units of 1024 octets, rounded up. */
export const kibibytes = (bytes: number): number => Math.ceil(bytes / 1024);

interface DeletedMessages {
  readonly count: number;
  readonly bytes: number;
}

async function deletedMessages(session: ImapSession, box: MailboxState, sizes: boolean): Promise<DeletedMessages> {
  if (box.deleted !== undefined && box.deletedBytes !== undefined)
    return { count: box.deleted, bytes: box.deletedBytes };
  const mail = session.backend.mail;
  const ref = { accountId: box.accountId, mailboxId: box.mailboxId };
  const uids = (await mail.listIndex(ref)).filter((m) => m.flags.includes(DELETED_FLAG)).map((m) => m.uid);
  if (!sizes || uids.length === 0) return { count: uids.length, bytes: 0 };
  const metas = await mail.getMessages(ref, uids);
  return { count: uids.length, bytes: metas.reduce((sum, m) => sum + m.size, 0) };
}

function value(item: StatusItem, box: MailboxState, appendLimit: number, deleted?: DeletedMessages): StatusValue {
  switch (item) {
    case 'MESSAGES':
      return { item, value: box.messages };
    case 'UIDNEXT':
      return { item, value: box.uidNext };
    case 'UIDVALIDITY':
      return { item, value: box.uidValidity };
    case 'UNSEEN':
      return { item, value: box.unseen };
    case 'SIZE':
      return { item, value: box.bytes };
    case 'RECENT':
      return { item, value: 0 };
    case 'HIGHESTMODSEQ':
      return { item, value: BigInt(box.highestModseq) };
    case 'APPENDLIMIT':
      return { item, value: appendLimit };
    case 'MAILBOXID':
      return { item, value: box.mailboxId };
    case 'DELETED':
      return { item, value: deleted!.count };
    case 'DELETED-STORAGE':
      return { item, value: kibibytes(deleted!.bytes) };
  }
}

/** The STATUS response for one mailbox (STATUS, and LIST-STATUS, RFC 5819 §2). */
export async function statusOf(session: ImapSession, box: MailboxState, items: readonly StatusItem[]): Promise<Buffer> {
  const wantsDeleted = items.includes('DELETED') || items.includes('DELETED-STORAGE');
  const deleted = wantsDeleted ? await deletedMessages(session, box, items.includes('DELETED-STORAGE')) : undefined;
  const values = items.map((i) => value(i, box, session.appendLimit, deleted));
  return statusResponse(box.name, values, session.writeOptions);
}

export default command({
  names: ['STATUS'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const box = await session.backend.mail.getMailbox(session.account!.accountId, cmd.mailbox);
    if (!box) return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    session.send(await statusOf(session, box, cmd.items));
    session.send(tagged(cmd.tag, 'OK', 'STATUS completed'));
  },
});
