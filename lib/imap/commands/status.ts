/** STATUS (RFC 9051 §6.3.11) from the mailbox's counters: no message is read. */

import type { MailboxState } from '../../core/ports.ts';
import type { StatusItem } from '../codec/index.ts';
import { type StatusValue, statusResponse, tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

function value(item: StatusItem, box: MailboxState, appendLimit: number): StatusValue | undefined {
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
    default:
      return undefined;
  }
}

export default command({
  names: ['STATUS'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const box = await session.backend.mail.getMailbox(session.account!.accountId, cmd.mailbox);
    if (!box) return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    const values = cmd.items.map((i) => value(i, box, session.appendLimit));
    if (values.some((v) => v === undefined)) return session.fail(cmd.tag, 'BAD', 'unsupported STATUS item');
    session.send(statusResponse(box.name, values as StatusValue[], session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'STATUS completed'));
  },
});
