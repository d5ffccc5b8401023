/** NOOP (RFC 9051 §6.1.2) and CHECK (RFC 3501 §6.4.1, gone in IMAP4rev2: a NOOP here). */
import { tagged } from '../codec/index.ts';
import { ANY, command } from './types.ts';

export default command({
  names: ['NOOP', 'CHECK'],
  states: ANY,
  async run(session, cmd) {
    // The session's catch-up after the command sends what changed in the selected mailbox.
    session.send(tagged(cmd.tag, 'OK', `${cmd.type} completed`));
  },
});
