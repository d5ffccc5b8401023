/**
 * From a reader `command` event to a typed command (ast.ts). Errors come back as a value with the status
 * to answer (BAD, or NO with a response code such as BADCHARSET), never as a thrown exception.
 */
import type { Command, SimpleCommandName } from './ast.ts';
import { Args, CommandParseError, type ParseOptions } from './cursor.ts';
import { parseAppend } from './parseAppend.ts';
import { parseFetch } from './parseFetch.ts';
import { parseListCommand } from './parseList.ts';
import {
  parseCreate,
  parseGetQuota,
  parseGetQuotaRoot,
  parseLsub,
  parseMailboxOnly,
  parseRename,
  parseSelect,
  parseSetQuota,
  parseStatus,
} from './parseMailbox.ts';
import { parseCopy, parseExpunge, parseStore } from './parseMessage.ts';
import { parseSearch } from './parseSearch.ts';
import { parseAuthenticate, parseEnable, parseId, parseLogin } from './parseSession.ts';
import type { ResponseCode } from './responseCodes.ts';
import type { Token } from './tokens.ts';

export type ParseResult =
  | { readonly ok: true; readonly command: Command }
  | {
      readonly ok: false;
      readonly tag: string;
      readonly status: 'BAD' | 'NO';
      readonly message: string;
      readonly code?: ResponseCode;
    };

const SIMPLE: readonly SimpleCommandName[] = [
  'CAPABILITY',
  'NOOP',
  'LOGOUT',
  'STARTTLS',
  'IDLE',
  'CHECK',
  'CLOSE',
  'UNSELECT',
  'NAMESPACE',
];

type Parser = (tag: string, args: Args) => Command;

const UID_COMMANDS: Record<string, (tag: string, args: Args) => Command> = {
  FETCH: (tag, args) => parseFetch(tag, args, true),
  SEARCH: (tag, args) => parseSearch(tag, args, true),
  STORE: (tag, args) => parseStore(tag, args, true),
  COPY: (tag, args) => parseCopy('COPY', tag, args, true),
  MOVE: (tag, args) => parseCopy('MOVE', tag, args, true),
  EXPUNGE: (tag, args) => parseExpunge(tag, args, true),
};

function parseUid(tag: string, args: Args): Command {
  const name = args.keyword('UID command');
  const parser = UID_COMMANDS[name];
  if (!parser) throw new CommandParseError(`UID ${name.slice(0, 30)} is not a command`);
  return parser(tag, args);
}

const PARSERS: Record<string, Parser> = {
  AUTHENTICATE: parseAuthenticate,
  LOGIN: parseLogin,
  ENABLE: parseEnable,
  ID: parseId,
  SELECT: (tag, args) => parseSelect('SELECT', tag, args),
  EXAMINE: (tag, args) => parseSelect('EXAMINE', tag, args),
  CREATE: parseCreate,
  DELETE: (tag, args) => parseMailboxOnly('DELETE', tag, args),
  SUBSCRIBE: (tag, args) => parseMailboxOnly('SUBSCRIBE', tag, args),
  UNSUBSCRIBE: (tag, args) => parseMailboxOnly('UNSUBSCRIBE', tag, args),
  RENAME: parseRename,
  LIST: parseListCommand,
  LSUB: parseLsub,
  STATUS: parseStatus,
  APPEND: parseAppend,
  EXPUNGE: (tag, args) => parseExpunge(tag, args, false),
  SEARCH: (tag, args) => parseSearch(tag, args, false),
  FETCH: (tag, args) => parseFetch(tag, args, false),
  STORE: (tag, args) => parseStore(tag, args, false),
  COPY: (tag, args) => parseCopy('COPY', tag, args, false),
  MOVE: (tag, args) => parseCopy('MOVE', tag, args, false),
  UID: parseUid,
  GETQUOTA: parseGetQuota,
  GETQUOTAROOT: parseGetQuotaRoot,
  SETQUOTA: parseSetQuota,
};

for (const name of SIMPLE) {
  PARSERS[name] = (tag, args) => {
    args.end();
    return { type: name, tag };
  };
}

/** The commands this parser knows (upper case), e.g. to tell "unknown command" from "bad arguments". */
export const KNOWN_COMMANDS: ReadonlySet<string> = new Set(Object.keys(PARSERS));

/** Parses one command: `name` upper-case as the reader gives it, `args` the tokens after it. */
export function parseCommand(
  input: { readonly tag: string; readonly name: string; readonly args: readonly Token[] },
  opts: ParseOptions = { utf8: false },
): ParseResult {
  const parser = Object.hasOwn(PARSERS, input.name) ? PARSERS[input.name] : undefined;
  if (!parser) return { ok: false, tag: input.tag, status: 'BAD', message: 'unknown command' };
  try {
    return { ok: true, command: parser(input.tag, new Args(input.args, opts)) };
  } catch (err) {
    if (!(err instanceof CommandParseError)) throw err;
    return {
      ok: false,
      tag: input.tag,
      status: err.status,
      message: `${input.name}: ${err.message}`,
      ...(err.code ? { code: err.code } : {}),
    };
  }
}
