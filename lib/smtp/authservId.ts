/**
 * Reads the authserv-id of an Authentication-Results field (RFC 8601 §2.2: the first `value`, a token or a
 * quoted-string, after CFWS) a piece at a time, so that DataPolicy can judge a field by its start without
 * holding the rest of it. Comments nest and may hold quoted-pairs (RFC 5322 §3.2.2); a reader that honours
 * that would see `(a (b) c) mx.example` as claiming mx.example, so the scanner must too.
 */

const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMICOLON = 0x3b;
/** What ends a token (RFC 2045 §5.1 tspecials, white space, CR, LF). */
const TOKEN_END = new Set(Buffer.from('()<>@,;:\\"/[]?= \t\r\n'));

export class AuthservIdScanner {
  private phase: 'cfws' | 'token' | 'quoted' | 'done' = 'cfws';
  private commentDepth = 0;
  private escaped = false;
  private id = '';

  /** Feeds bytes of the field value (after the colon); returns whether the authserv-id is complete. */
  feed(bytes: Buffer): boolean {
    for (let i = 0; i < bytes.length && this.phase !== 'done'; i++) this.step(bytes[i]);
    return this.phase === 'done';
  }

  /**
   * The authserv-id, lower case; call once the field has ended (or feed returned true). undefined when the
   * field ended inside a comment: a reader that does not nest comments could find an id in there.
   */
  finish(): string | undefined {
    if (this.phase === 'cfws' && this.commentDepth > 0) return undefined;
    if (this.phase === 'cfws') this.id = '';
    this.phase = 'done';
    return this.id.toLowerCase();
  }

  private step(b: number): void {
    if (this.phase === 'cfws') this.cfws(b);
    else if (this.phase === 'token') this.token(b);
    else this.quoted(b);
  }

  private cfws(b: number): void {
    if (this.commentDepth > 0) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === OPEN) this.commentDepth += 1;
      else if (b === CLOSE) this.commentDepth -= 1;
    } else if (b === OPEN) this.commentDepth = 1;
    else if (b === DQUOTE) this.phase = 'quoted';
    else if (b === SEMICOLON)
      this.phase = 'done'; // ";" first: an empty authserv-id
    else if (TOKEN_END.has(b))
      return; // white space, and stray specials before the id
    else {
      this.phase = 'token';
      this.id = String.fromCharCode(b);
    }
  }

  private token(b: number): void {
    if (TOKEN_END.has(b)) this.phase = 'done';
    else this.id += String.fromCharCode(b);
  }

  private quoted(b: number): void {
    if (this.escaped) {
      this.escaped = false;
      this.id += String.fromCharCode(b);
    } else if (b === BACKSLASH) this.escaped = true;
    else if (b === DQUOTE) this.phase = 'done';
    else if (b !== 0x0d && b !== 0x0a) this.id += String.fromCharCode(b); // folding inside the quotes
  }
}

/** Whether an authserv-id from finish() is ours, or might be read as ours (an unterminated comment). */
export function isOrMightBe(id: string | undefined, authservId: string): boolean {
  return id === undefined || id === authservId.toLowerCase();
}

/** Whether a whole Authentication-Results field (name, colon, value) claims `authservId`. */
export function claimsAuthserv(field: string, authservId: string): boolean {
  const scanner = new AuthservIdScanner();
  scanner.feed(Buffer.from(field.slice(field.indexOf(':') + 1), 'latin1'));
  return isOrMightBe(scanner.finish(), authservId);
}
