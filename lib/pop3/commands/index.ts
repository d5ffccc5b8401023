import { AUTH_COMMANDS } from './auth.ts';
import { CAPA_COMMANDS } from './capa.ts';
import { TRANSACTION_COMMANDS } from './transaction.ts';
import type { CommandSpec } from './types.ts';

export type { CommandSpec } from './types.ts';

/** Every POP3 command the server knows, by upper-case keyword. APOP is deliberately absent. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [...AUTH_COMMANDS, ...CAPA_COMMANDS, ...TRANSACTION_COMMANDS].map((c) => [c.name, c]),
);
