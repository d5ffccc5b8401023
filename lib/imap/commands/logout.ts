/** LOGOUT (RFC 9051 §6.1.3): BYE, the tagged OK, then the connection closes. */
import { tagged, untagged } from '../codec/index.ts';
import { ANY, command } from './types.ts';

export default command({
  names: ['LOGOUT'],
  states: ANY,
  async run(session, cmd) {
    session.send(untagged('BYE', 'logging out'));
    session.send(tagged(cmd.tag, 'OK', 'LOGOUT completed'));
    session.end();
  },
});
