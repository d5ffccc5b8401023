/** DELETE (RFC 9051 §6.3.5): INBOX cannot be deleted; inferior names stay. */
import { tagged } from '../codec/index.ts';
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
    session.send(tagged(cmd.tag, 'OK', 'DELETE completed'));
  },
});
