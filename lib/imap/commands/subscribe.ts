/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8): only existing mailboxes can be subscribed; a name
 * still subscribed after its mailbox was deleted can be unsubscribed. The store's NotFoundError is the
 * session's NO [NONEXISTENT].
 */
import { tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['SUBSCRIBE', 'UNSUBSCRIBE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    await session.backend.mail.setSubscribed(session.account!.accountId, cmd.mailbox, cmd.type === 'SUBSCRIBE');
    session.send(tagged(cmd.tag, 'OK', `${cmd.type} completed`));
  },
});
