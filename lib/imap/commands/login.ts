/** LOGIN (RFC 9051 §6.2.3): refused before TLS unless plaintext passwords are allowed (LOGINDISABLED). */
import { command, NOT_AUTHENTICATED } from './types.ts';

export default command({
  names: ['LOGIN'],
  states: NOT_AUTHENTICATED,
  async run(session, cmd) {
    if (!session.authAllowed) {
      return session.fail(cmd.tag, 'NO', 'use STARTTLS before LOGIN', { code: 'PRIVACYREQUIRED' });
    }
    await session.login(cmd.tag, cmd.username, cmd.password);
  },
});
