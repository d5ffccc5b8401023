/**
 * The IMAP load generator of the benchmark: a minimal client over a plain TCP socket, one command at a time
 * (no pipelining), so Postern and Dovecot are driven by exactly the same bytes and round trips. Responses are
 * split into lines with the literals they carry (`{n}` at a line end, RFC 9051 §4.3) read byte-exact;
 * APPEND sends its message as a synchronizing literal (waits for `+`), which both servers take.
 */
import { connect, type Socket } from 'node:net';

/** One response line with its literals: inline (`keep`) or left out (only their length counted). */
export interface ResponseLine {
  readonly text: string;
  /** Octets on the wire, CRLF and literals included. */
  readonly bytes: number;
}

const LITERAL_AT_END = /\{(\d+)\+?\}$/;

/**
 * Splits received octets into response lines. Octets are consumed as they come: only an incomplete line
 * (or literal) is kept, so a 10 MB FETCH answer is parsed in one pass. Without `keepLiterals`, literal
 * octets are skipped (a FETCH of 10,000 headers is counted, not stored).
 */
export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Octets of a literal still to come. */
  private literalLeft = 0;
  private literalParts: Buffer[] = [];
  /** Text of the line so far (segments before its literals, and the literals when kept). */
  private pending = '';
  private pendingBytes = 0;

  /** Responses may keep literals or not from one command to the next. */
  constructor(public keepLiterals = true) {}

  push(chunk: Buffer): ResponseLine[] {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const out: ResponseLine[] = [];
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buf.length - this.pos);
        if (take === 0) break;
        if (this.keepLiterals) this.literalParts.push(this.buf.subarray(this.pos, this.pos + take));
        this.pos += take;
        this.pendingBytes += take;
        this.literalLeft -= take;
        if (this.literalLeft > 0) break;
        if (this.keepLiterals) this.pending += Buffer.concat(this.literalParts).toString('latin1');
        this.literalParts = [];
        continue;
      }
      const eol = this.buf.indexOf('\r\n', this.pos);
      if (eol === -1) break;
      const segment = this.buf.toString('latin1', this.pos, eol);
      this.pendingBytes += eol + 2 - this.pos;
      this.pos = eol + 2;
      const literal = LITERAL_AT_END.exec(segment);
      if (literal) {
        this.pending += this.keepLiterals ? `${segment}\r\n` : segment;
        this.literalLeft = Number(literal[1]);
        continue;
      }
      out.push({ text: this.pending + segment, bytes: this.pendingBytes });
      this.pending = '';
      this.pendingBytes = 0;
    }
    return out;
  }
}

export interface Reply {
  /** `OK`, `NO` or `BAD`. */
  readonly status: string;
  /** The tagged line after the status (response code and text). */
  readonly text: string;
  /** Untagged lines, when asked to keep them. */
  readonly untagged: readonly string[];
  /** Untagged lines received (kept or not). */
  readonly lines: number;
  /** Octets of the whole answer. */
  readonly bytes: number;
}

interface Pending {
  readonly tag: string;
  readonly keep: boolean;
  readonly untagged: string[];
  lines: number;
  bytes: number;
  onContinue?: () => void;
  resolve(r: Reply): void;
  reject(e: Error): void;
}

export class ImapBenchClient {
  private readonly parser = new ResponseParser();
  private current: Pending | undefined;
  private greeting: ((line: string) => void) | undefined;
  private n = 0;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      for (const line of this.parser.push(d)) this.dispatch(line);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      this.current?.reject(e);
      this.current = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects and reads the greeting (which must be `* OK`). */
  static async connect(port: number, host = '127.0.0.1'): Promise<ImapBenchClient> {
    const socket = connect({ port, host });
    const client = new ImapBenchClient(socket);
    const greeting = await new Promise<string>((resolve, reject) => {
      client.greeting = resolve;
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before the greeting')));
    });
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected greeting: ${greeting}`);
    return client;
  }

  private dispatch(line: ResponseLine): void {
    if (this.greeting) {
      const g = this.greeting;
      this.greeting = undefined;
      g(line.text);
      return;
    }
    const cur = this.current;
    if (!cur) return;
    cur.bytes += line.bytes;
    if (line.text.startsWith('+')) {
      const go = cur.onContinue;
      cur.onContinue = undefined;
      if (go) go();
      else cur.reject(new Error(`unexpected continuation: ${line.text}`));
      return;
    }
    if (line.text.startsWith(`${cur.tag} `)) {
      this.current = undefined;
      const rest = line.text.slice(cur.tag.length + 1);
      const sp = rest.indexOf(' ');
      const status = sp === -1 ? rest : rest.slice(0, sp);
      cur.resolve({
        status,
        text: sp === -1 ? '' : rest.slice(sp + 1),
        untagged: cur.untagged,
        lines: cur.lines,
        bytes: cur.bytes,
      });
      return;
    }
    cur.lines++;
    if (cur.keep) cur.untagged.push(line.text);
  }

  /**
   * Sends one command and reads through its tagged answer. `literal`: the command line ends with `{n}`
   * for it, and its octets follow the server's `+`. `keep: false` counts untagged lines without storing
   * them or their literals.
   */
  command(line: string, opts: { literal?: Buffer; keep?: boolean } = {}): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.current) return Promise.reject(new Error('one command at a time'));
    const tag = `b${++this.n}`;
    const keep = opts.keep ?? true;
    this.parser.keepLiterals = keep;
    return new Promise<Reply>((resolve, reject) => {
      const literal = opts.literal;
      this.current = { tag, keep, untagged: [], lines: 0, bytes: 0, resolve, reject };
      if (literal) {
        this.current.onContinue = () => this.socket.write(Buffer.concat([literal, Buffer.from('\r\n')]));
        this.socket.write(`${tag} ${line} {${literal.length}}\r\n`);
      } else this.socket.write(`${tag} ${line}\r\n`);
    });
  }

  /** A command that must answer OK. */
  async ok(line: string, opts: { literal?: Buffer; keep?: boolean } = {}): Promise<Reply> {
    const r = await this.command(line, opts);
    if (r.status !== 'OK') throw new Error(`${line.split(' ')[0]}: ${r.status} ${r.text}`);
    return r;
  }

  async logout(): Promise<void> {
    await this.command('LOGOUT').catch(() => undefined);
    this.socket.destroy();
  }
}

/** An IMAP quoted string (the bench's user names and passwords need no literal). */
export const quoted = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** The UID an APPEND answered with (RFC 4315 §3 APPENDUID), or undefined. */
export function appendUid(reply: Reply): number | undefined {
  const m = /\[APPENDUID \d+ (\d+)\]/i.exec(reply.text);
  return m ? Number(m[1]) : undefined;
}
