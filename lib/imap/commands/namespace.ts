/** NAMESPACE (RFC 2342, RFC 9051 §6.3.10): one personal namespace, "" with "/" as delimiter. */
import { namespaceResponse, tagged } from '../codec/index.ts';
import { HIERARCHY_DELIMITER } from '../mailboxes.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['NAMESPACE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const personal = [{ prefix: '', delimiter: HIERARCHY_DELIMITER }];
    session.send(namespaceResponse(personal, null, null, session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'NAMESPACE completed'));
  },
});
