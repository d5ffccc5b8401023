/**
 * ENABLE (RFC 5161): only extensions this server advertises can be enabled, and none of IMAP4rev2,
 * UTF8=ACCEPT or CONDSTORE is advertised yet, so the ENABLED response lists nothing (RFC 5161 §3.1).
 */
import { enabled, tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

const ENABLEABLE = new Set<string>();

export default command({
  names: ['ENABLE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    session.send(enabled(cmd.capabilities.filter((c) => ENABLEABLE.has(c))));
    session.send(tagged(cmd.tag, 'OK', 'ENABLE completed'));
  },
});
