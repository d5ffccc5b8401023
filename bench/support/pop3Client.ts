/**
 * The POP3 load generator of the benchmark: a minimal client over a plain TCP socket that logs in, reads the
 * listing and downloads every message (RETR 1..n, then QUIT), checking each size against the +OK line. The
 * same code drives Postern and Dovecot.
 */
import { connect, type Socket } from 'node:net';

class Conn {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake() {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private buffer(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private consume(n: number): Buffer {
    const buf = this.buffer();
    const out = buf.subarray(0, n);
    const rest = buf.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  private async until(find: () => number): Promise<number> {
    for (;;) {
      const at = find();
      if (at >= 0) return at;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  async line(): Promise<string> {
    const at = await this.until(() => this.buffer().indexOf('\r\n'));
    return this.consume(at + 2)
      .subarray(0, at)
      .toString('latin1');
  }

  /** The body of a multi-line response (still dot-stuffed), after its +OK line was read. */
  async body(): Promise<Buffer> {
    let from = 0;
    const at = await this.until(() => {
      const buf = this.buffer();
      if (buf.length >= 3 && buf[0] === 0x2e && buf[1] === 0x0d && buf[2] === 0x0a) return 0;
      const i = buf.indexOf('\r\n.\r\n', from);
      if (i === -1) from = Math.max(0, buf.length - 4);
      return i === -1 ? -1 : i + 2;
    });
    const body = this.consume(at);
    this.consume(3);
    return body;
  }

  send(text: string) {
    this.socket.write(text);
  }

  async command(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    const reply = await this.line();
    if (!reply.startsWith('+OK')) throw new Error(`${text.split(' ')[0]} failed: ${reply}`);
    return reply;
  }

  close() {
    this.socket.destroy();
  }
}

export interface DownloadResult {
  readonly messages: number;
  readonly bytes: number;
}

/**
 * One client session: login, STAT, RETR every message in turn, QUIT. With `retrieve: false`, no RETR: what
 * a session costs apart from its messages (login, listing, maildrop lock).
 */
export async function downloadAll(
  port: number,
  user: string,
  pass: string,
  opts: { retrieve?: boolean } = {},
): Promise<DownloadResult> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const c = new Conn(socket);
  try {
    const greeting = await c.line();
    if (!greeting.startsWith('+OK')) throw new Error(`greeting: ${greeting}`);
    await c.command(`USER ${user}`);
    await c.command(`PASS ${pass}`);
    const stat = await c.command('STAT');
    const count = opts.retrieve === false ? 0 : Number(stat.split(' ')[1]);
    let bytes = 0;
    for (let i = 1; i <= count; i++) {
      const status = await c.command(`RETR ${i}`);
      const body = await c.body();
      const size = Number(/^\+OK (\d+)/.exec(status)?.[1]);
      // The un-stuffed body: the size announced, or that plus the framing CRLF of an unterminated message.
      let dots = 0;
      if (body[0] === 0x2e) dots++;
      for (let at = body.indexOf('\n.'); at !== -1; at = body.indexOf('\n.', at + 2)) dots++;
      const got = body.length - dots;
      if (Number.isFinite(size) && got !== size && got !== size + 2)
        throw new Error(`RETR ${i}: ${got} bytes, announced ${size}`);
      bytes += got;
    }
    await c.command('QUIT');
    return { messages: count, bytes };
  } finally {
    c.close();
  }
}
