/** RENAME (RFC 9051 §6.3.6): inferior names follow; renaming INBOX moves its messages (the store does it). */
import { tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['RENAME'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const accountId = session.account!.accountId;
    const mail = session.backend.mail;
    if (!(await mail.getMailbox(accountId, cmd.from))) {
      return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    }
    if (await mail.getMailbox(accountId, cmd.to)) {
      return session.fail(cmd.tag, 'NO', 'target mailbox exists', { code: 'ALREADYEXISTS' });
    }
    await mail.renameMailbox(accountId, cmd.from, cmd.to);
    session.send(tagged(cmd.tag, 'OK', 'RENAME completed'));
  },
});
