/**
 * Helpers for the SMTP tests (not a test file itself): a raw line-level SMTP client for scripted sessions, a
 * test gateway whose filter uses a stub DNS, a DKIM key for a test domain, and readers for what a mailbox
 * received.
 */
import { generateKeyPairSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { readMessage } from '../../lib/core/messageBody.ts';
import type { Metrics } from '../../lib/core/metrics.ts';
import type { OutboundQueue } from '../../lib/core/outbound.ts';
import type { Account, Invoker, MessageMeta, Storage } from '../../lib/core/ports.ts';
import { type DnsRecords, stubResolver } from '../../lib/pipeline/dns.ts';
import { createHandlers, type HandlerOptions } from '../../lib/pipeline/handlers.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

// ---------------------------------------------------------------- raw client

export interface SmtpReply {
  readonly code: number;
  /** Every line's text after the code and separator, joined with \n. */
  readonly text: string;
  readonly lines: readonly string[];
}

/** A line-level SMTP client that reads replies as they come (multi-line aware). */
export class RawSmtp {
  private buffer = '';
  private readonly waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static open(port: number, host = '127.0.0.1', preface?: Buffer): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        if (preface) socket.write(preface);
        resolve(new RawSmtp(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Opens a connection and reads the greeting. */
  static async greet(port: number): Promise<{ c: RawSmtp; greeting: SmtpReply }> {
    const c = await RawSmtp.open(port);
    return { c, greeting: await c.reply() };
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a command line (CRLF added) and reads its reply. */
  async cmd(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Reads the next complete reply; rejects on timeout or when the connection closes first. */
  async reply(timeoutMs = 10_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.take();
      if (parsed) return parsed;
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; buffer: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private take(): SmtpReply | undefined {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\r\n', pos);
      if (nl === -1) return undefined;
      const line = this.buffer.slice(pos, nl);
      pos = nl + 2;
      lines.push(line);
      if (line.length < 4 || line[3] !== '-') {
        this.buffer = this.buffer.slice(pos);
        return { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n'), lines };
      }
    }
  }

  /** Resolves once the server has closed the connection (or after timeoutMs, with false). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  /** Whatever arrived and was not read as a reply. */
  get unread(): string {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** EHLO, MAIL, RCPTs, DATA, text, "."; returns the final reply (asserting the intermediate ones). */
export async function sendMail(
  port: number,
  opts: { from: string; to: string[]; data: string | Buffer; ehlo?: string; mailParams?: string },
): Promise<SmtpReply> {
  const { c } = await RawSmtp.greet(port);
  try {
    await expectCode(c.cmd(`EHLO ${opts.ehlo ?? 'client.example'}`), 250);
    await expectCode(c.cmd(`MAIL FROM:<${opts.from}>${opts.mailParams ? ` ${opts.mailParams}` : ''}`), 250);
    for (const to of opts.to) await expectCode(c.cmd(`RCPT TO:<${to}>`), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write(dotStuff(opts.data));
    c.write('.\r\n');
    const reply = await c.reply(60_000);
    c.write('QUIT\r\n');
    return reply;
  } finally {
    setTimeout(() => c.close(), 100).unref();
  }
}

export async function expectCode(p: Promise<SmtpReply>, code: number): Promise<SmtpReply> {
  const r = await p;
  if (r.code !== code) throw new Error(`expected ${code}, got ${r.code} ${r.text}`);
  return r;
}

/** Dot-stuffs message text for DATA (RFC 5321 §4.5.2); the text must end with CRLF. */
export function dotStuff(data: string | Buffer): Buffer {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
  const text = buf.toString('latin1');
  const stuffed = (text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..');
  return Buffer.from(stuffed, 'latin1');
}

// ---------------------------------------------------------------- gateway with stub DNS

export const SENDER_IP = '127.0.0.1';

/** DNS for the test domains: sender.test passes SPF for 127.0.0.1 and publishes DMARC p=reject. */
export function defaultDns(dkimPublicKey?: string): DnsRecords {
  const dkim: DnsRecords = dkimPublicKey
    ? { 'sel._domainkey.sender.test': { TXT: [splitTxt(`v=DKIM1; k=rsa; p=${dkimPublicKey}`)] } }
    : {};
  return {
    'sender.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'], A: ['127.0.0.1'] },
    '_dmarc.sender.test': { TXT: ['v=DMARC1; p=reject; adkim=r; aspf=r'] },
    'quarantine.test': { TXT: ['v=spf1 -all'] },
    '_dmarc.quarantine.test': { TXT: ['v=DMARC1; p=quarantine'] },
    'softfail.test': { TXT: ['v=spf1 ~all'] },
    'nodmarc.test': { TXT: ['v=spf1 -all'] },
    ...dkim,
  };
}

function splitTxt(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

let dkimKeys: { privateKey: string; publicKey: string } | undefined;

/** An RSA key pair for sel._domainkey.sender.test (public key as the base64 DER for the p= tag). */
export function testDkimKeys(): { privateKey: string; publicKey: string } {
  if (!dkimKeys) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    dkimKeys = {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  return dkimKeys;
}

/** DKIM-signs a message as sender.test (selector sel): returns signature header + message. */
export async function dkimSignTest(message: string): Promise<string> {
  const { privateKey } = testDkimKeys();
  const key = { signingDomain: 'sender.test', selector: 'sel', privateKey };
  // the runtime reads signatureData (as the README says); the bundled d.ts describes the flat form
  const res = await dkimSign(message, { canonicalization: 'relaxed/relaxed', ...key, signatureData: [key] } as never);
  if (res.errors.length) throw res.errors[0];
  return res.signatures + message;
}

export interface MxTestGateway extends TestGateway {
  /** Messages of a mailbox with their bytes as a client sees them (headerPrefix + blob). */
  messages(address: string, mailbox?: string): Promise<{ meta: MessageMeta; bytes: Buffer }[]>;
  accounts: Map<string, Account>;
}

/**
 * A test gateway whose filter resolves DNS from `dns` (defaultDns with the test DKIM key unless given), with
 * optional wrappers around storage and invoker for fault injection.
 */
export async function startMxGateway(
  opts: {
    env?: Record<string, string>;
    /** Storage for the whole gateway (default: fresh storage on the run's services). */
    storage?: Storage;
    dns?: DnsRecords;
    handlerOptions?: HandlerOptions;
    /** Storage the functions see (the gateway itself keeps the plain one). */
    wrapHandlerStorage?: (storage: Storage) => Storage;
    wrapInvoker?: (invoker: Invoker) => Invoker;
    /** The outbound queue of submission (test/support/memoryQueue.ts in protocol tests). */
    queue?: OutboundQueue;
    metrics?: Metrics;
  } = {},
): Promise<MxTestGateway> {
  const resolver = stubResolver(opts.dns ?? defaultDns(testDkimKeys().publicKey));
  const tg = await startTestGateway({
    env: opts.env,
    storage: opts.storage,
    queue: opts.queue,
    metrics: opts.metrics,
    invoker: (storage) => {
      const handlerStorage = opts.wrapHandlerStorage ? opts.wrapHandlerStorage(storage) : storage;
      const local = new LocalInvoker(createHandlers(handlerStorage, { resolver, ...opts.handlerOptions }));
      return opts.wrapInvoker ? opts.wrapInvoker(local) : local;
    },
  });
  const accounts = new Map<string, Account>();
  const base = tg.addAccount.bind(tg);
  return Object.assign(tg, {
    accounts,
    async addAccount(address: string, password: string, quotaBytes?: number) {
      const account = await base(address, password, quotaBytes);
      accounts.set(address, account);
      return account;
    },
    async messages(address: string, mailbox = 'INBOX') {
      const account = accounts.get(address) ?? (await tg.storage.directory.getAccountByAddress(address));
      if (!account) throw new Error(`no account ${address}`);
      const box = await tg.storage.mail.getMailbox(account.accountId, mailbox);
      if (!box) return [];
      const metas = await tg.storage.mail.listMessages(box);
      return Promise.all(metas.map(async (meta) => ({ meta, bytes: await readMessage(tg.storage.blobs, meta) })));
    },
  });
}

/**
 * Splits a delivered copy into (our trace/verdict header lines above the client's text, the client's text).
 * Our lines are the copy's headerPrefix and the Received field we put first in the blob.
 */
export function splitDelivered(bytes: Buffer, meta: MessageMeta): { ours: string; text: Buffer } {
  const prefixLength = Buffer.byteLength(meta.headerPrefix);
  const blob = bytes.subarray(prefixLength);
  // our Received field: "Received: ...\r\n" followed by continuation lines
  let end = blob.indexOf('\r\n') + 2;
  while (blob[end] === 0x09 || blob[end] === 0x20) end = blob.indexOf('\r\n', end) + 2;
  return { ours: meta.headerPrefix + blob.subarray(0, end).toString('utf8'), text: blob.subarray(end) };
}

/** A plain RFC 5322 message with CRLF line ends. */
export function simpleMessage(
  opts: { from?: string; to?: string; subject?: string; body?: string; extra?: string } = {},
): string {
  const id = `${Date.now()}.${Math.random().toString(36).slice(2)}@sender.test`;
  return (
    `From: ${opts.from ?? 'Alice <alice@sender.test>'}\r\n` +
    `To: ${opts.to ?? 'bob@ours.test'}\r\n` +
    `Subject: ${opts.subject ?? 'hello'}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: <${id}>\r\n` +
    (opts.extra ?? '') +
    `\r\n${opts.body ?? 'Hello Bob.\r\n'}`
  );
}
