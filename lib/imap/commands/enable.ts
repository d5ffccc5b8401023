/**
 * ENABLE (RFC 5161, RFC 9051 §6.3.1): only extensions this server advertises can be enabled: CONDSTORE
 * (RFC 7162 §3.1), QRESYNC (which enables CONDSTORE too, RFC 7162 §3.2.3), IMAP4rev2 (RFC 9051 Appendix A: responses follow RFC 9051 from then on) and UTF8=ACCEPT
 * (RFC 6855 §3: UTF-8 mailbox names and quoted strings). Anything else is ignored and left out of ENABLED.
 * The ENABLED response names each extension once, in this server's spelling.
 */
import { enabled, tagged } from '../codec/index.ts';
import type { ImapSession } from '../session.ts';
import { AUTHENTICATED, command } from './types.ts';

/** What ENABLE can switch on, by the upper-cased name the parser gives. */
const ENABLEABLE: Readonly<Record<string, { name: string; on: (s: ImapSession) => void }>> = {
  CONDSTORE: {
    name: 'CONDSTORE',
    on: (s) => {
      s.condstore = true;
    },
  },
  QRESYNC: {
    name: 'QRESYNC',
    on: (s) => {
      s.qresync = s.condstore = true;
    },
  },
  IMAP4REV2: {
    name: 'IMAP4rev2',
    on: (s) => {
      s.imap4rev2 = true;
    },
  },
  'UTF8=ACCEPT': {
    name: 'UTF8=ACCEPT',
    on: (s) => {
      s.utf8Accept = true;
    },
  },
};

export default command({
  names: ['ENABLE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    // RFC 5161 §3.1: an extension the server does not offer is ignored, so the advertised list decides.
    const offered = new Set(session.capabilities().map((c) => c.toUpperCase()));
    const now = new Set<string>();
    for (const requested of cmd.capabilities) {
      const ext = Object.hasOwn(ENABLEABLE, requested) ? ENABLEABLE[requested] : undefined;
      if (!ext || !offered.has(requested)) continue;
      ext.on(session);
      now.add(ext.name);
    }
    session.send(enabled([...now]));
    session.send(tagged(cmd.tag, 'OK', 'ENABLE completed'));
  },
});
