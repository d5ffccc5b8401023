/** ID (RFC 2971): the client's fields are logged (bounded), the server names itself. */
import { idResponse, tagged } from '../codec/index.ts';
import { ANY, command } from './types.ts';

export default command({
  names: ['ID'],
  states: ANY,
  async run(session, cmd) {
    const client = cmd.params
      ?.slice(0, 8)
      .map(([k, v]) => `${k.slice(0, 30)}=${(v ?? '').slice(0, 60)}`)
      .join(' ');
    if (client) session.log.info('imap client id', { client });
    session.send(idResponse([['name', 'Postern']], session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'ID completed'));
  },
});
