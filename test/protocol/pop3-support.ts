/**
 * Helpers for the POP3 tests: a raw line-oriented client over TCP/TLS, the Python poplib and curl drivers,
 * and message delivery through the storage layer.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Storage } from '../../lib/core/ports.ts';
import { type ConnectOptions, openSocket, SocketClient } from '../support/socketClient.ts';

/** A client that reads raw bytes and hands out whole lines or multi-line responses. */
export class RawClient extends SocketClient {
  static async connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
    return new RawClient(await openSocket(port, opts));
  }

  /** The next CRLF line, without its CRLF. */
  line(timeoutMs = 5000): Promise<string> {
    return this.waitFor(() => {
      const i = this.buf.indexOf('\r\n');
      if (i === -1) return undefined;
      const line = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + 2);
      return line;
    }, timeoutMs);
  }

  /** The status line and the raw body of a multi-line response (terminator removed, still dot-stuffed). */
  async multi(timeoutMs = 10000): Promise<{ status: string; body: Buffer }> {
    const status = await this.line(timeoutMs);
    if (!status.startsWith('+OK')) return { status, body: Buffer.alloc(0) };
    const body = await this.waitFor(() => {
      const start = this.buf.subarray(0, 3).equals(Buffer.from('.\r\n')) ? 0 : -1;
      if (start === 0) {
        this.buf = this.buf.subarray(3);
        return Buffer.alloc(0);
      }
      const i = this.buf.indexOf('\r\n.\r\n');
      if (i === -1) return undefined;
      const out = this.buf.subarray(0, i + 2);
      this.buf = this.buf.subarray(i + 5);
      return out;
    }, timeoutMs);
    return { status, body };
  }

  /** Sends a command and returns the one-line reply. */
  async cmd(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  /** Resolves once the server has closed the connection (rejects after the timeout). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => (this.closed ? true : undefined), timeoutMs).catch((e) => {
      if (!this.closed) throw e;
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Un-stuffs a multi-line body the way a client does. */
export function unstuff(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const lf = body.indexOf(0x0a, start);
    const end = lf === -1 ? body.length : lf + 1;
    const line = body.subarray(start, end);
    out.push(line[0] === 0x2e ? line.subarray(1) : line);
    start = end;
  }
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- messages

export interface Delivered {
  readonly uid: number;
  readonly uidValidity: number;
  /** The message exactly as POP3 must send it: header prefix + blob. */
  readonly bytes: Buffer;
}

/** Appends a message to the account's INBOX through the storage layer, as delivery does. */
export async function deliver(
  storage: Storage,
  accountId: string,
  blob: Buffer,
  headerPrefix = '',
): Promise<Delivered> {
  const inbox = await storage.mail.getMailbox(accountId, 'INBOX');
  if (!inbox) throw new Error('no INBOX');
  const blobKey = `msg/${randomBytes(8).toString('hex')}`;
  await storage.blobs.put(blobKey, blob);
  const r = await storage.mail.append({
    accountId,
    mailboxId: inbox.mailboxId,
    blobKey,
    blobSize: blob.length,
    headerPrefix,
  });
  return { uid: r.uid, uidValidity: r.uidValidity, bytes: Buffer.concat([Buffer.from(headerPrefix, 'utf8'), blob]) };
}

/** A realistic message of about `size` bytes with 76-character lines, some starting with a dot. */
export function makeMessage(subject: string, size: number): Buffer {
  const head = `From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${randomBytes(6).toString('hex')}@example.org>\r\n\r\n`;
  const lines: string[] = [];
  let total = head.length;
  let i = 0;
  while (total < size) {
    const line = (i % 7 === 3 ? '.' : '') + `${i} `.padEnd(74, String.fromCharCode(97 + (i % 26)));
    lines.push(line);
    total += line.length + 2;
    i++;
  }
  return Buffer.from(head + lines.map((l) => `${l}\r\n`).join(''), 'latin1');
}

// ---------------------------------------------------------------- external clients

export function run(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/**
 * Drives Python's poplib: connects (mode plain, stls or ssl), runs `steps` (method name and arguments, e.g.
 * ['retr', 1]) and returns each result (bytes as base64) or {error}. A step ['raw', 'CMD'] sends a raw
 * command through poplib's _shortcmd; ['auth_plain', user, pass] does AUTH PLAIN with an initial response.
 */
const POPLIB_DRIVER = String.raw`
import sys, json, poplib, ssl, base64
cfg = json.loads(sys.argv[1])
def enc(v):
    if isinstance(v, bytes): return {'b64': base64.b64encode(v).decode()}
    if isinstance(v, (list, tuple)): return [enc(x) for x in v]
    if isinstance(v, dict): return {k.decode() if isinstance(k, bytes) else k: enc(x) for k, x in v.items()}
    return v
def context():
    if cfg.get('cafile'):
        ctx = ssl.create_default_context(cafile=cfg['cafile'])
        ctx.check_hostname = cfg.get('check_hostname', True)
        return ctx
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
out = {'steps': []}
try:
    if cfg['mode'] == 'ssl':
        c = poplib.POP3_SSL(cfg['host'], cfg['port'], context=context(), timeout=30)
    else:
        c = poplib.POP3(cfg['host'], cfg['port'], timeout=30)
    out['welcome'] = enc(c.getwelcome())
    if cfg['mode'] == 'stls':
        out['stls'] = enc(c.stls(context()))
    for step in cfg['steps']:
        op, args = step[0], step[1:]
        try:
            if op == 'raw':
                r = c._shortcmd(args[0])
            elif op == 'auth_plain':
                token = base64.b64encode(('\0' + args[0] + '\0' + args[1]).encode()).decode()
                r = c._shortcmd('AUTH PLAIN ' + token)
            elif op == 'close':
                c.sock.close(); r = None
            else:
                r = getattr(c, op)(*args)
            out['steps'].append(enc(r))
        except poplib.error_proto as e:
            out['steps'].append({'error': enc(e.args[0] if e.args else str(e))})
except Exception as e:
    out['exception'] = repr(e)
print(json.dumps(out))
`;

export type PoplibValue = string | number | null | { b64: string } | { error: unknown } | PoplibValue[];

export interface PoplibResult {
  welcome?: PoplibValue;
  stls?: PoplibValue;
  steps: PoplibValue[];
  exception?: string;
}

export async function poplib(cfg: {
  mode: 'plain' | 'stls' | 'ssl';
  port: number;
  host?: string;
  cafile?: string;
  check_hostname?: boolean;
  steps: (string | number)[][];
}): Promise<PoplibResult> {
  const r = await run('python3', ['-c', POPLIB_DRIVER, JSON.stringify({ host: '127.0.0.1', ...cfg })]);
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as PoplibResult;
}

/** Decodes a poplib value: base64 bytes to a Buffer, an error to its text. */
export function bytesOf(v: PoplibValue): Buffer {
  if (v && typeof v === 'object' && 'b64' in v) return Buffer.from(v.b64, 'base64');
  throw new Error(`not bytes: ${JSON.stringify(v)}`);
}

export function text(v: PoplibValue): string {
  if (v && typeof v === 'object' && 'error' in v) return `ERROR ${text(v.error as PoplibValue)}`;
  return bytesOf(v).toString('latin1');
}

/** poplib's retr/top result: (response, lines, octets) → the message as lines joined with CRLF. */
export function retrieved(v: PoplibValue): { status: string; lines: Buffer[]; octets: number } {
  if (!Array.isArray(v)) throw new Error(`not a retr result: ${JSON.stringify(v)}`);
  return { status: text(v[0]), lines: (v[1] as PoplibValue[]).map(bytesOf), octets: v[2] as number };
}
