/**
 * COPY, MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8, RFC 6851). The answer carries COPYUID (RFC 4315
 * §3); MOVE sends, per committed chunk, `* OK [COPYUID ...]` and the EXPUNGE responses of the moved
 * messages (one VANISHED once QRESYNC is on, RFC 7162 §3.2.10.2), so a failure of a later chunk still
 * leaves the client knowing what moved (RFC 6851 §3.3). A set naming a message another session expunged
 * (still shown: no EXPUNGE may be told before a COPY by number) is NO [EXPUNGEISSUED], nothing copied.
 */
import { QuotaExceededError } from '../../core/errors.ts';
import type { UidMap } from '../../core/ports.ts';
import { tagged, untagged } from '../codec/index.ts';
import { tellExpunged } from '../qresync.ts';
import { command, SELECTED } from './types.ts';

const copyUid = (map: UidMap) =>
  ({ code: 'COPYUID', uidValidity: map.uidValidity, source: map.sourceUids, destination: map.destUids }) as const;

export default command({
  names: ['COPY', 'MOVE'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    const name = `${cmd.uid ? 'UID ' : ''}${cmd.type}`;
    if (cmd.type === 'MOVE' && box.readOnly)
      return session.fail(cmd.tag, 'NO', 'mailbox is read-only', { code: 'READ-ONLY' });
    const { uids, outOfRange } = box.resolve(cmd.set, cmd.uid);
    if (outOfRange) return session.fail(cmd.tag, 'BAD', 'no such message');
    // RFC 2180 §4.4: a COPY naming a message another session expunged fails whole (as Dovecot's does);
    // RFC 3501 §6.4.7 lets a COPY only succeed or leave the destination as it was.
    if (uids.some((u) => box.expungedElsewhere(u))) {
      return session.refuse(cmd.tag, 'some of the messages were expunged', { code: 'EXPUNGEISSUED' });
    }
    const account = session.account!;
    const target = await session.backend.mail.getMailbox(account.accountId, cmd.mailbox);
    // RFC 9051 §6.4.7: TRYCREATE tells the client that creating the mailbox would help.
    if (!target) return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'TRYCREATE' });
    if (uids.length === 0) return session.send(tagged(cmd.tag, 'OK', `${name} completed: nothing to do`));
    const to = { accountId: account.accountId, mailboxId: target.mailboxId };
    const quota = { quotaBytes: account.quotaBytes };
    try {
      if (cmd.type === 'COPY') {
        const map = await session.backend.mail.copyMessages(box.ref, uids, to, quota);
        return session.send(tagged(cmd.tag, 'OK', `${name} completed`, copyUid(map)));
      }
      await session.backend.mail.moveMessages(box.ref, uids, to, {
        ...quota,
        onChunk: (chunk) => {
          session.send(untagged('OK', 'moved', copyUid(chunk)));
          tellExpunged(session, chunk.sourceUids);
        },
      });
      session.send(tagged(cmd.tag, 'OK', `${name} completed`));
    } catch (e) {
      if (e instanceof QuotaExceededError) return session.refuse(cmd.tag, 'over quota', { code: 'OVERQUOTA' });
      throw e;
    }
  },
});
