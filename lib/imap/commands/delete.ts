/**
 * DELETE (RFC 9051 §6.3.5): INBOX cannot be deleted; inferior names stay. Under IMAP4rev2 a name given in
 * another form than the stored one is told as `\NonExistent` with OLDNAME.
 */
import { listResponse, tagged } from '../codec/index.ts';
import { oldNameEntry } from '../mailboxes.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['DELETE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    if (cmd.mailbox === 'INBOX') return session.fail(cmd.tag, 'NO', 'INBOX cannot be deleted', { code: 'CANNOT' });
    const accountId = session.account!.accountId;
    const box = await session.backend.mail.getMailbox(accountId, cmd.mailbox);
    if (!box) return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    if (session.selected?.ref.mailboxId === box.mailboxId) {
      session.selected = undefined;
      session.state = 'authenticated';
    }
    await session.backend.mail.deleteMailbox(accountId, cmd.mailbox);
    const renamed = session.imap4rev2 ? oldNameEntry(cmd.mailbox, ['\\NonExistent']) : undefined;
    if (renamed) session.send(listResponse(renamed, session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'DELETE completed'));
  },
});
