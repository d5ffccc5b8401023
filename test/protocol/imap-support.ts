/**
 * Helpers for the IMAP tests: a raw client that reads whole responses (literals included, byte-exact), and
 * message delivery through the storage layer with the summary the store step would keep.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { Storage } from '../../lib/core/ports.ts';
import { boundSummary, forCopy, summarizeBuffer } from '../../lib/mime/summary.ts';

/** One response: its lines, each with the literals it carried spliced in as raw bytes. */
export interface Tagged {
  /** Untagged and continuation responses before the tagged one, as latin1 text with literals inline. */
  readonly untagged: string[];
  /** The tagged status line, e.g. `a1 OK done`. */
  readonly status: string;
}

export class ImapClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  private n = 0;

  private constructor(public socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<ImapClient> {
    const socket = opts.tls
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new ImapClient(socket);
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

  private async waitFor<T>(take: () => T | undefined, timeoutMs = 10_000): Promise<T> {
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

  /** One whole response line: literals announced at line ends are read and kept inline. */
  line(): Promise<string> {
    return this.waitFor(() => {
      let at = 0;
      for (;;) {
        const i = this.buf.indexOf('\r\n', at);
        if (i === -1) return undefined;
        const m = /\{(\d+)\}$/.exec(this.buf.subarray(at, i).toString('latin1'));
        if (!m) {
          const line = this.buf.subarray(0, i).toString('latin1');
          this.buf = this.buf.subarray(i + 2);
          return line;
        }
        const end = i + 2 + Number(m[1]);
        if (this.buf.length < end) return undefined;
        at = end;
      }
    });
  }

  /** Sends `tag command` and reads through the tagged answer. */
  async cmd(command: string, tag = `a${++this.n}`): Promise<Tagged> {
    this.send(`${tag} ${command}\r\n`);
    return this.until(tag);
  }

  async until(tag: string): Promise<Tagged> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.line();
      if (line.startsWith(`${tag} `)) return { untagged, status: line };
      untagged.push(line);
    }
  }

  pending(): string {
    return this.buf.toString('latin1');
  }

  async waitClosed(): Promise<void> {
    await this.waitFor(() => (this.closed ? true : undefined));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface Delivered {
  readonly uid: number;
  readonly uidValidity: number;
  /** The message exactly as IMAP must send it: header prefix + blob. */
  readonly bytes: Buffer;
}

/** Appends a message to a mailbox through the storage layer, with the per-copy summary the store step keeps. */
export async function deliverTo(
  storage: Storage,
  accountId: string,
  blob: Buffer,
  opts: { mailbox?: string; headerPrefix?: string; flags?: string[]; internalDate?: number } = {},
): Promise<Delivered> {
  const box = await storage.mail.getMailbox(accountId, opts.mailbox ?? 'INBOX');
  if (!box) throw new Error('no such mailbox');
  const headerPrefix = opts.headerPrefix ?? '';
  const blobKey = `msg/${randomBytes(8).toString('hex')}`;
  await storage.blobs.put(blobKey, blob);
  const r = await storage.mail.append({
    accountId,
    mailboxId: box.mailboxId,
    blobKey,
    blobSize: blob.length,
    headerPrefix,
    flags: opts.flags,
    internalDate: opts.internalDate,
    summary: boundSummary(forCopy(summarizeBuffer(blob), headerPrefix)),
  });
  return { uid: r.uid, uidValidity: r.uidValidity, bytes: Buffer.concat([Buffer.from(headerPrefix, 'utf8'), blob]) };
}
