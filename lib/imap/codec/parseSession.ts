/** Connection-level commands: AUTHENTICATE, LOGIN, ENABLE, ID (RFC 9051 §6.1-6.3, RFC 4959, RFC 5161, RFC 2971). */
import type { AuthenticateCommand, EnableCommand, IdCommand, LoginCommand } from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MECHANISM = /^[A-Z0-9_-]{1,20}$/;

/** RFC 4959 §3: the initial response is base64, `=` for an empty one. */
export function decodeBase64Strict(text: string, what: string): Buffer {
  if (text === '=') return Buffer.alloc(0);
  if (text === '' || !BASE64.test(text)) throw new CommandParseError(`${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

export function parseAuthenticate(tag: string, args: Args): AuthenticateCommand {
  const mechanism = args.keyword('SASL mechanism');
  if (!MECHANISM.test(mechanism)) throw new CommandParseError('invalid SASL mechanism name');
  const initialResponse = args.done ? null : decodeBase64Strict(args.atom('initial response'), 'initial response');
  args.end();
  return { type: 'AUTHENTICATE', tag, mechanism, initialResponse };
}

export function parseLogin(tag: string, args: Args): LoginCommand {
  const username = args.astring('user name');
  const password = args.astring('password');
  args.end();
  return { type: 'LOGIN', tag, username, password };
}

export function parseEnable(tag: string, args: Args): EnableCommand {
  const capabilities: string[] = [];
  while (!args.done) capabilities.push(args.keyword('capability'));
  if (capabilities.length === 0) throw new CommandParseError('ENABLE needs at least one capability');
  return { type: 'ENABLE', tag, capabilities };
}

/** RFC 2971 §3.3: at most 30 pairs, fields up to 30 octets, values up to 1024. */
export function parseId(tag: string, args: Args): IdCommand {
  if (args.accept('NIL')) {
    args.end();
    return { type: 'ID', tag, params: null };
  }
  const list = args.list('ID parameters');
  args.end();
  const params: [string, string | null][] = [];
  while (!list.done) {
    const field = list.string('ID field');
    const value = list.nstring('ID value');
    if (Buffer.byteLength(field) > 30 || (value !== null && Buffer.byteLength(value) > 1024)) {
      throw new CommandParseError('ID field or value too long');
    }
    params.push([field, value]);
  }
  if (params.length > 30) throw new CommandParseError('too many ID parameters');
  return { type: 'ID', tag, params };
}
