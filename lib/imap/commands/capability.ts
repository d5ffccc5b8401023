/** CAPABILITY (RFC 9051 §6.1.1). */
import { capability, tagged } from '../codec/index.ts';
import { ANY, command } from './types.ts';

export default command({
  names: ['CAPABILITY'],
  states: ANY,
  async run(session, cmd) {
    session.send(capability(session.capabilities()));
    session.send(tagged(cmd.tag, 'OK', 'CAPABILITY completed'));
  },
});
