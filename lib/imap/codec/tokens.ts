/**
 * What the command reader hands the parser: a command line split into IMAP tokens (RFC 9051 §4), with
 * literals already read. Strings are octets (their charset is the parser's business); atoms are text.
 */

/** An atom, including `NIL`, numbers, sequence sets, flags and FETCH items such as `BODY[HEADER]<0.10>`. */
export interface AtomToken {
  readonly type: 'atom';
  readonly value: string;
}

/** A quoted string (escapes removed) or a literal collected into memory. */
export interface StringToken {
  readonly type: 'string';
  readonly value: Buffer;
  readonly form: 'quoted' | 'literal' | 'literal8';
}

/** A parenthesised list. */
export interface ListToken {
  readonly type: 'list';
  readonly items: readonly Token[];
}

/**
 * A literal too large to hold in memory (an APPEND message): its octets went to the session as
 * `literal-data` events with the same `seq` (0 for the first streamed literal of the command).
 */
export interface StreamedToken {
  readonly type: 'streamed';
  readonly seq: number;
  readonly size: number;
  readonly binary: boolean;
}

export type Token = AtomToken | StringToken | ListToken | StreamedToken;

/** A short human-readable description of a token, for error messages (never the content of a string). */
export function describeToken(token: Token | undefined): string {
  if (token === undefined) return 'end of command';
  switch (token.type) {
    case 'atom':
      return token.value.length > 40 ? `atom ${token.value.slice(0, 40)}...` : `atom ${token.value}`;
    case 'string':
      return `${token.form} string`;
    case 'list':
      return 'list';
    case 'streamed':
      return 'literal';
  }
}
