/**
 * ENABLE (RFC 5161): only extensions this server advertises can be enabled: CONDSTORE (RFC 7162 §3.1) and
 * QRESYNC, which enables CONDSTORE too (RFC 7162 §3.2.3). IMAP4rev2 and UTF8=ACCEPT are not offered yet and
 * are left out of ENABLED (RFC 5161 §3.1).
 */
import { enabled, tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

const ENABLEABLE = new Set<string>(['CONDSTORE', 'QRESYNC']);

export default command({
  names: ['ENABLE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const now = cmd.capabilities.filter((c) => ENABLEABLE.has(c));
    if (now.includes('CONDSTORE')) session.condstore = true;
    if (now.includes('QRESYNC')) session.qresync = session.condstore = true;
    session.send(enabled(now));
    session.send(tagged(cmd.tag, 'OK', 'ENABLE completed'));
  },
});
