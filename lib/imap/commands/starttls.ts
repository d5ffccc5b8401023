/** STARTTLS (RFC 9051 §6.2.1): only before login, only once. */
import { command, NOT_AUTHENTICATED } from './types.ts';

export default command({
  names: ['STARTTLS'],
  states: NOT_AUTHENTICATED,
  async run(session, cmd) {
    if (session.secure) return session.fail(cmd.tag, 'BAD', 'TLS is already active');
    await session.startTls(cmd.tag);
  },
});
