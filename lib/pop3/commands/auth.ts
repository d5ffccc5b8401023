import { parseAddress } from '../../core/address.ts';
import { continuation, multiline, ok } from '../codec.ts';
import type { Pop3Session } from '../session.ts';
import type { CommandSpec } from './types.ts';

/** RFC 2595 §2.1 / RFC 3206 §3: a password must not cross a clear-text connection unless the operator allows it. */
const PLAINTEXT_REFUSED = 'plaintext authentication is disabled on this connection; use STLS first';

function refusePlaintext(s: Pop3Session): boolean {
  if (s.authAllowed) return false;
  s.fail(PLAINTEXT_REFUSED, 'AUTH');
  return true;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The authentication and authorization ids are the same account (no proxy login as someone else). */
function sameIdentity(a: string, b: string): boolean {
  const norm = (x: string) => {
    try {
      return parseAddress(x.trim()).address;
    } catch {
      return x.trim().toLowerCase();
    }
  };
  return norm(a) === norm(b);
}

/** AUTH PLAIN (RFC 5034 §4 with the PLAIN mechanism of RFC 4616), initial response or continuation. */
async function authenticate(s: Pop3Session, args: readonly string[]): Promise<void> {
  if (args.length === 0) {
    // Not in RFC 5034, but widely sent by clients (as in RFC 1734 practice): list the mechanisms.
    s.send(multiline('SASL mechanisms follow', s.authAllowed ? ['PLAIN'] : []));
    return;
  }
  if (refusePlaintext(s)) return;
  const mechanism = args[0].toUpperCase();
  if (mechanism !== 'PLAIN') return s.fail(`unsupported SASL mechanism ${mechanism.slice(0, 20)}; use PLAIN`);
  let response: string;
  if (args.length === 2) {
    // RFC 5034 §4: "=" is an empty initial response.
    response = args[1] === '=' ? '' : args[1];
  } else {
    s.send(continuation());
    const ev = await s.readLine();
    if (!ev) return;
    if (ev.kind === 'overlong') return s.fail('SASL response too long');
    response = ev.line.toString('latin1').trim();
    // RFC 5034 §4: a client response of "*" cancels the exchange; the server answers -ERR.
    if (response === '*') return s.fail('authentication cancelled');
  }
  if (!BASE64.test(response)) return s.fail('invalid base64 in SASL response');
  const parts = Buffer.from(response, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return s.fail('malformed PLAIN response', 'AUTH');
  const [authzid, authcid, password] = parts;
  // RFC 4616 §2: an authorization identity other than the user's own would be a login as someone else.
  if (authzid !== '' && !sameIdentity(authzid, authcid)) {
    s.log.warn('pop3 refused authorization identity of another user');
    return s.fail('authorization identity must be empty or your own address', 'AUTH');
  }
  await s.login(authcid, password);
}

export const AUTH_COMMANDS: CommandSpec[] = [
  {
    // RFC 1939 §7 USER name: the reply does not tell whether the mailbox exists (no user enumeration).
    name: 'USER',
    states: ['AUTHORIZATION'],
    minArgs: 1,
    maxArgs: 1,
    usage: 'USER name',
    handler: (s, args) => {
      if (refusePlaintext(s)) return;
      s.pendingUser = args[0];
      s.send(ok('send PASS'));
    },
  },
  {
    // RFC 1939 §7 PASS string: only right after USER; the whole rest of the line is the password.
    name: 'PASS',
    states: ['AUTHORIZATION'],
    minArgs: 1,
    maxArgs: 1,
    wholeArgument: true,
    usage: 'PASS password',
    handler: async (s, _args, rest) => {
      if (refusePlaintext(s)) return;
      const user = s.pendingUser;
      if (user === undefined) return s.fail('send USER first');
      await s.login(user, rest);
    },
  },
  {
    name: 'AUTH',
    states: ['AUTHORIZATION'],
    minArgs: 0,
    maxArgs: 2,
    longLine: true,
    usage: 'AUTH PLAIN [initial-response]',
    handler: authenticate,
  },
  {
    // RFC 2595 §4: STLS only in AUTHORIZATION, and not once TLS is active.
    name: 'STLS',
    states: ['AUTHORIZATION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'STLS',
    handler: async (s) => {
      if (s.secure) return s.fail('TLS is already active');
      await s.startTls();
    },
  },
];
