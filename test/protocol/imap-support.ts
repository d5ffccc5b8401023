/**
 * Helpers for the IMAP tests: a raw client that reads whole responses (literals included, byte-exact), and
 * message delivery through the storage layer with the summary the store step would keep.
 */
import { randomBytes } from 'node:crypto';
import type { Storage } from '../../lib/core/ports.ts';
import { boundSummary, forCopy, summarizeBuffer } from '../../lib/mime/summary.ts';
import { openSocket, SocketClient } from '../support/socketClient.ts';

/** One response: its lines, each with the literals it carried spliced in as raw bytes. */
export interface Tagged {
  /** Untagged and continuation responses before the tagged one, as latin1 text with literals inline. */
  readonly untagged: string[];
  /** The tagged status line, e.g. `a1 OK done`. */
  readonly status: string;
}

export class ImapClient extends SocketClient {
  private n = 0;

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<ImapClient> {
    return new ImapClient(await openSocket(port, opts));
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
