/**
 * Helpers for the IMAP tests: a raw client that reads whole responses (literals included, byte-exact), and
 * message delivery through the storage layer with the summary the store step would keep.
 */
import { randomBytes } from 'node:crypto';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Storage } from '../../lib/core/ports.ts';
import { boundSummary, forCopy, summarizeBuffer } from '../../lib/mime/summary.ts';
import { openSocket, SocketClient } from '../support/socketClient.ts';
import { run } from './pop3-support.ts';

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

/**
 * A client past the greeting and LOGIN (user and password sent as quoted strings), with the extensions
 * enabled, each ENABLE answered with ENABLED for it (RFC 5161).
 */
export async function loggedInClient(
  port: number,
  user: string,
  pass: string,
  enable: string[] = [],
): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  if (!(await c.line()).startsWith('* OK ')) throw new Error('no greeting');
  const login = await c.cmd(`LOGIN "${user}" "${pass}"`);
  if (!/^\S+ OK /.test(login.status)) throw new Error(`login failed: ${login.status}`);
  for (const ext of enable) {
    const r = await c.cmd(`ENABLE ${ext}`);
    if (r.untagged[0] !== `* ENABLED ${ext}`) throw new Error(`ENABLE ${ext}: ${r.untagged.join(' ')}`);
  }
  return c;
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

/**
 * Drives Python's imaplib: connects (plain, starttls or ssl), runs the steps (method name and arguments, e.g.
 * `['login', user, pass]`, `['enable', 'UTF8=ACCEPT']`) and prints every result as JSON with bytes in base64.
 */
const IMAPLIB_DRIVER = `
import sys, json, imaplib, ssl, base64
cfg = json.loads(sys.argv[1])
def enc(v):
    if isinstance(v, bytes): return {'b64': base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)): return [enc(x) for x in v]
    return v
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {'steps': []}
try:
    if cfg['mode'] == 'ssl':
        c = imaplib.IMAP4_SSL(cfg['host'], cfg['port'], ssl_context=ctx, timeout=30)
    else:
        c = imaplib.IMAP4(cfg['host'], cfg['port'], timeout=30)
    if cfg['mode'] == 'starttls':
        out['starttls'] = enc(c.starttls(ssl_context=ctx))
    out['capabilities'] = list(c.capabilities)
    for step in cfg['steps']:
        op, args = step[0], step[1:]
        try:
            if op == 'uid':
                r = c.uid(*args)
            else:
                r = getattr(c, op)(*args)
            out['steps'].append(enc(r))
        except imaplib.IMAP4.error as e:
            out['steps'].append({'error': str(e)})
except Exception as e:
    out['exception'] = repr(e)
print(json.dumps(out))
`;

/** One imaplib result as the driver prints it. */
export type Py = string | number | null | { b64: string } | { error: string } | Py[];

export async function imaplib(cfg: {
  mode: 'plain' | 'starttls' | 'ssl';
  port: number;
  steps: (string | number | null)[][];
}): Promise<{ steps: Py[]; capabilities: string[]; exception?: string }> {
  const r = await run('python3', ['-c', IMAPLIB_DRIVER, JSON.stringify({ host: '127.0.0.1', ...cfg })]);
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as { steps: Py[]; capabilities: string[]; exception?: string };
}

export const bytes = (v: Py): Buffer => {
  if (v && typeof v === 'object' && 'b64' in v) return Buffer.from(v.b64, 'base64');
  throw new Error(`not bytes: ${JSON.stringify(v)}`);
};
/** imaplib's (typ, data) result. */
export const typ = (v: Py): string => ((v as Py[])[0] as string) ?? JSON.stringify(v);
export const data = (v: Py): Py[] => (v as Py[])[1] as Py[];

/**
 * An imapflow client on loopback: `plain` (no TLS: plaintext auth allowed in tests), `starttls` or `tls`
 * (implicit), trusting the test certificate; `extra` adds options such as `qresync`. Not yet connected.
 */
export function imapflow(
  port: number,
  auth: { user: string; pass: string },
  transport: 'plain' | 'starttls' | 'tls',
  extra: Partial<ImapFlowOptions> = {},
): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: transport === 'tls',
    doSTARTTLS: transport === 'starttls',
    tls: { rejectUnauthorized: false },
    auth,
    logger: false,
    ...extra,
  });
}
