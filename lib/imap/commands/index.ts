/** The command table: every command this server implements, one file each. */
import type { CommandType } from '../codec/index.ts';
import append from './append.ts';
import authenticate from './authenticate.ts';
import capability from './capability.ts';
import close from './close.ts';
import copy from './copy.ts';
import create from './create.ts';
import del from './delete.ts';
import enable from './enable.ts';
import expunge from './expunge.ts';
import fetch from './fetch.ts';
import getquota from './getquota.ts';
import id from './id.ts';
import idle from './idle.ts';
import list from './list.ts';
import login from './login.ts';
import logout from './logout.ts';
import namespace from './namespace.ts';
import noop from './noop.ts';
import rename from './rename.ts';
import search from './search.ts';
import select from './select.ts';
import setquota from './setquota.ts';
import starttls from './starttls.ts';
import status from './status.ts';
import store from './store.ts';
import subscribe from './subscribe.ts';
import type { CommandSpec } from './types.ts';

export type { ImapState } from './types.ts';

const SPECS: readonly CommandSpec[] = [
  capability,
  noop,
  logout,
  starttls,
  login,
  authenticate,
  id,
  enable,
  namespace,
  list,
  select,
  status,
  create,
  del,
  rename,
  subscribe,
  close,
  fetch,
  store,
  expunge,
  search,
  copy,
  idle,
  append,
  getquota,
  setquota,
];

export const COMMANDS: ReadonlyMap<CommandType, CommandSpec> = new Map(
  SPECS.flatMap((spec) => spec.names.map((name) => [name, spec] as const)),
);
