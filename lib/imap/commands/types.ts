/** What a command file exports: the states it may run in (RFC 9051 §6) and its handler. */
import type { Command, CommandType } from '../codec/index.ts';
import type { ImapSession } from '../session.ts';

export type ImapState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export const ANY: readonly ImapState[] = ['not-authenticated', 'authenticated', 'selected'];
export const NOT_AUTHENTICATED: readonly ImapState[] = ['not-authenticated'];
export const AUTHENTICATED: readonly ImapState[] = ['authenticated', 'selected'];
export const SELECTED: readonly ImapState[] = ['selected'];

/** The parsed command of a name (a union member may carry several names: SELECT | EXAMINE, NOOP | ...). */
type CommandOf<T extends CommandType> = Command extends infer C
  ? C extends Command
    ? T extends C['type']
      ? C
      : never
    : never
  : never;

export interface CommandSpec<T extends CommandType = CommandType> {
  readonly names: readonly T[];
  readonly states: readonly ImapState[];
  run(session: ImapSession, command: CommandOf<T>): Promise<void>;
}

/** Keeps the command's own type in its handler while the table holds them all. */
export function command<T extends CommandType>(spec: CommandSpec<T>): CommandSpec {
  return spec as unknown as CommandSpec;
}
