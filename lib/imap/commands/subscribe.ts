/** SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8): only existing mailboxes can be subscribed. */
import { tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const accountId = session.account!.accountId;
    const mail = session.backend.mail;
    if (!(await mail.getMailbox(accountId, cmd.mailbox))) {
      return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    }
    await mail.setSubscribed(accountId, cmd.mailbox, cmd.type === 'SUBSCRIBE');
    session.send(tagged(cmd.tag, 'OK', `${cmd.type} completed`));
  },
});
