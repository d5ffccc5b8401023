import type { Pop3Session, Pop3State } from '../session.ts';

/** One row of the command table: the session checks state and arity before calling the handler. */
export interface CommandSpec {
  readonly name: string;
  /** States the command is allowed in (RFC 1939 §3-6, RFC 2449 §5, RFC 2595 §4, RFC 5034 §4). */
  readonly states: readonly Pop3State[];
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Shown in the error for wrong arguments. */
  readonly usage: string;
  /** The argument is the rest of the line, spaces included (PASS, RFC 1939 §7). */
  readonly wholeArgument?: boolean;
  /** The line may exceed 255 octets (AUTH with an initial response, RFC 5034 §4). */
  readonly longLine?: boolean;
  readonly handler: (session: Pop3Session, args: readonly string[], rest: string) => void | Promise<void>;
}
