/**
 * The part every raw protocol test client shares: a socket (plain or implicit TLS, upgradable in place), the
 * bytes received and not yet consumed, and waiting until a parser over them finds what it wants.
 * test/protocol/pop3-support.ts (lines) and imap-support.ts (responses with literals) build on it.
 */
import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export interface ConnectOptions {
  readonly tls?: boolean;
  readonly host?: string;
  /** Plain connections only: the client address the server sees. */
  readonly localAddress?: string;
}

/** Connects to a test server on loopback (certificates are self-signed: not verified). */
export async function openSocket(port: number, opts: ConnectOptions = {}): Promise<Socket | TLSSocket> {
  const host = opts.host ?? '127.0.0.1';
  const socket = opts.tls
    ? tlsConnect({ port, host, rejectUnauthorized: false })
    : connect({ port, host, localAddress: opts.localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

export class SocketClient {
  protected buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  protected constructor(public socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  private listen(socket: Socket | TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Upgrades to TLS on the same connection (after the server's go-ahead to STARTTLS/STLS). */
  async startTls(): Promise<void> {
    const plain = this.socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Whatever arrived and was not read yet. */
  pending(): string {
    return this.buf.toString('latin1');
  }

  /** Waits until `take` finds something in the received bytes; throws on close or after the timeout. */
  protected async waitFor<T>(take: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = take();
      if (got !== undefined) return got;
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.pending().slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; unread: ${JSON.stringify(this.pending().slice(0, 300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
