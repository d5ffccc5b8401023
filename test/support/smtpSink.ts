/**
 * A receiving SMTP server for the outbound transport tests, built on smtp-server (the npm library, not ours):
 * records every transaction (MAIL FROM and its parameters, each RCPT and its parameters, the data, whether
 * the session was under TLS, who authenticated) and answers RCPT by the recipient's local part:
 * `soft...` 450, `hard...` 550, anything else 250. Options add STARTTLS, implicit TLS, required AUTH, DSN.
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import selfsigned from 'selfsigned';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SinkTransaction {
  readonly mailFrom: string;
  readonly mailArgs: Record<string, string>;
  readonly rcpts: { readonly address: string; readonly args: Record<string, string> }[];
  readonly data: Buffer;
  readonly secure: boolean;
  readonly user?: string;
}

export interface SinkOptions {
  /** Offer STARTTLS with this certificate (else STARTTLS is not offered). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** TLS from the first byte. */
  readonly implicitTls?: boolean;
  /** Require AUTH with these credentials before MAIL. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Offer AUTH without TLS too. */
  readonly allowInsecureAuth?: boolean;
  /** Advertise DSN (RFC 3461). */
  readonly dsn?: boolean;
  /** Reply to DATA's end with this instead of 250 (e.g. 451 or 554). */
  readonly dataReply?: { readonly code: number; readonly message: string };
  /** The SIZE limit announced (default 10 MiB). */
  readonly maxSize?: number;
  /** Advertise neither 8BITMIME nor SMTPUTF8. */
  readonly plain7bit?: boolean;
  /** The banner's reply: refuse every session with this code (e.g. 421, 554). */
  readonly refuseSessions?: number;
  /** Take the message and never answer the final dot (a server that hangs). */
  readonly hangAfterData?: boolean;
  /** Close a session idle this long (smtp-server's socketTimeout). */
  readonly idleCloseMs?: number;
  /** Answer every RCPT with 451 (a host that defers everything). */
  readonly deferAll?: boolean;
  /**
   * Answers RCPT before the local-part rules: a reply (code and text) or undefined for those rules. Tests that
   * change a host's mind between attempts (450, then accepted) use it.
   */
  readonly rcptReply?: (address: string) => { readonly code: number; readonly message: string } | undefined;
  /** Listen on this loopback address and port (several MX hosts on one port); default 127.0.0.1 and any port. */
  readonly host?: string;
  readonly port?: number;
  /** Called with each accepted transaction instead of keeping it in `transactions` (a benchmark's sink). */
  readonly onMessage?: (transaction: SinkTransaction) => void;
}

export interface Sink {
  readonly port: number;
  readonly transactions: SinkTransaction[];
  /** Sessions accepted so far (each TCP connection). */
  sessions: number;
  /** Most sessions open at the same time. */
  maxConcurrent: number;
  /** Every RCPT address asked, accepted or not. */
  readonly rcptAttempts: string[];
  close(): Promise<void>;
}

let material: { key: string; cert: string } | undefined;

/** A self-signed certificate for `localhost` and 127.0.0.1 (made once per test process). */
export async function testCertificate(): Promise<{ key: string; cert: string }> {
  if (!material) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    material = { key: pems.private, cert: pems.cert };
  }
  return material;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function recipientReply(address: string): Error | undefined {
  if (address.startsWith('soft')) return smtpError(450, '4.2.1 Mailbox busy, try later');
  if (address.startsWith('hard')) return smtpError(550, '5.1.1 No such user here');
  return undefined;
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const transactions: SinkTransaction[] = [];
  let active = 0;
  const sink = {
    port: 0,
    transactions,
    sessions: 0,
    maxConcurrent: 0,
    rcptAttempts: [] as string[],
    close: async () => {},
  };
  const serverOptions: SMTPServerOptions = {
    secure: options.implicitTls === true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: [...(options.tls || options.implicitTls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    authOptional: !options.auth,
    allowInsecureAuth: options.allowInsecureAuth === true,
    hideDSN: !options.dsn,
    hide8BITMIME: options.plain7bit === true,
    hideSMTPUTF8: options.plain7bit === true,
    size: options.maxSize ?? 10 * 1024 * 1024,
    logger: false,
    disableReverseLookup: true,
    ...(options.idleCloseMs ? { socketTimeout: options.idleCloseMs } : {}),
    onConnect(_session, callback) {
      sink.sessions += 1;
      active += 1;
      sink.maxConcurrent = Math.max(sink.maxConcurrent, active);
      if (options.refuseSessions) return callback(smtpError(options.refuseSessions, 'No service for you'));
      callback();
    },
    onClose() {
      active -= 1;
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        return callback(null, { user: auth.username });
      }
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      sink.rcptAttempts.push(address.address);
      if (options.deferAll) return callback(smtpError(451, '4.3.0 Everything deferred here'));
      const chosen = options.rcptReply?.(address.address);
      if (chosen) return callback(smtpError(chosen.code, chosen.message));
      callback(recipientReply(address.address) ?? null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelope = session.envelope;
        const mailFrom = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
        const record = options.onMessage ?? ((t: SinkTransaction) => transactions.push(t));
        record({
          mailFrom,
          mailArgs: (envelope.mailFrom === false ? {} : envelope.mailFrom.args || {}) as Record<string, string>,
          rcpts: envelope.rcptTo.map((r) => ({ address: r.address, args: (r.args || {}) as Record<string, string> })),
          data: Buffer.concat(chunks),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        if (options.hangAfterData) return;
        if (options.dataReply) return callback(smtpError(options.dataReply.code, options.dataReply.message));
        callback(null, `2.0.0 Ok: queued as T${transactions.length}`);
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/** A TCP port with nothing listening (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts and never says a word (greeting timeout). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
