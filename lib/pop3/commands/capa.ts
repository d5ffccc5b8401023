import { multiline, ok } from '../codec.ts';
import type { Pop3Session } from '../session.ts';
import type { CommandSpec } from './types.ts';

/**
 * CAPA (RFC 2449 §5), in AUTHORIZATION and TRANSACTION. USER and SASL are listed only where a password may
 * be sent (RFC 2595 §2.1: not on a clear-text connection when the operator forbids it); STLS only before TLS
 * and before login (RFC 2595 §4).
 */
export function capabilities(session: Pop3Session): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (session.state === 'AUTHORIZATION') {
    if (session.authAllowed) caps.push('USER', 'SASL PLAIN');
    if (!session.secure) caps.push('STLS');
  }
  caps.push('IMPLEMENTATION Postern');
  return caps;
}

export const CAPA_COMMANDS: CommandSpec[] = [
  {
    name: 'CAPA',
    states: ['AUTHORIZATION', 'TRANSACTION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'CAPA',
    handler: (s) => s.send(multiline('capability list follows', capabilities(s))),
  },
  {
    name: 'QUIT',
    states: ['AUTHORIZATION', 'TRANSACTION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'QUIT',
    handler: async (s) => {
      // RFC 1939 §4: QUIT before login ends the session without an UPDATE state.
      if (s.state === 'AUTHORIZATION') {
        s.send(ok('bye'));
        s.end();
        return;
      }
      await s.update();
    },
  },
];
