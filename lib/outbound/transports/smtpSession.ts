/**
 * One SMTP client session to a next hop, over nodemailer's SMTPConnection: connect (implicit TLS, required or
 * opportunistic STARTTLS), optional AUTH, then transactions (smtpTransaction.ts). Every wait is bounded: the
 * connect, the greeting, inactivity on the socket, and a deadline for the whole of each step, so a server
 * that trickles bytes cannot hold a delivery. Failures to open become our own 4xx reply (SessionError).
 */
import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { oneLine, ourReply } from './replies.ts';

/**
 * implicit: TLS from the first byte (465); starttls: STARTTLS or no session; opportunistic: STARTTLS when
 * offered; none: never TLS (a relay on loopback, tests).
 */
export type TlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

export interface SmtpTimeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  /** Inactivity on the socket. */
  readonly socketMs: number;
  /** The whole of opening a session, and the whole of one transaction. */
  readonly stepMs: number;
}

/**
 * Shorter than RFC 5321 §4.5.3.2 suggests (5 minutes for the greeting and each command, 10 for the reply to
 * the final dot), on purpose: an attempt must end well within the deliver Lambda's 5 minutes, or its other
 * deliveries die with it. A server that takes longer than 2 idle minutes is deferred and tried again.
 */
export const DEFAULT_TIMEOUTS: SmtpTimeouts = {
  connectMs: 30_000,
  greetingMs: 60_000,
  socketMs: 120_000,
  stepMs: 240_000,
};

export interface SmtpPeer {
  /** What to connect to: an IP address (MX) or a host name (smarthost). */
  readonly address: string;
  readonly port: number;
  /** The host's name, for SNI and the certificate check. */
  readonly hostname: string;
  readonly tls: TlsMode;
  /** Check the certificate chain and name (smarthost); opportunistic TLS to an MX does not (RFC 7435). */
  readonly verifyCertificate: boolean;
  /** Extra trusted CA certificates, PEM. */
  readonly ca?: string;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Send credentials over a session without TLS (a smarthost on loopback); off by default. */
  readonly allowPlaintextAuth?: boolean;
  /** Our name in EHLO. */
  readonly heloName: string;
  readonly timeouts: SmtpTimeouts;
}

/** Opening failed; `reply` is the line every recipient of the attempt gets (always 4xx). */
export class SessionError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

/** `host[address]:port`, as Postfix names the remote MTA. */
export function peerLabel(peer: Pick<SmtpPeer, 'address' | 'hostname' | 'port'>): string {
  return peer.hostname === peer.address
    ? `${peer.address}:${peer.port}`
    : `${peer.hostname}[${peer.address}]:${peer.port}`;
}

interface NodemailerError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
}

const CERTIFICATE_PROBLEM = /certificate|self[- ]signed|unable to verify|CERT_|altnames/i;

/** Our reply for a session that could not be opened. */
export function openFailureReply(label: string, err: NodemailerError): string {
  const why = oneLine(err.message || String(err));
  if (err.code === 'EAUTH') return ourReply.authFailed(label, err.response ? oneLine(err.response) : why);
  if (CERTIFICATE_PROBLEM.test(why)) return ourReply.tlsFailed(label, why);
  if (err.code === 'ETLS') return ourReply.tlsRequired(label, why);
  if (err.response && err.responseCode !== undefined) {
    return err.responseCode >= 400 && err.responseCode < 500
      ? oneLine(err.response)
      : ourReply.refused(label, err.response);
  }
  return ourReply.noAnswer(label, why);
}

/**
 * Runs `start` with a callback and waits for it, bounded by `ms` (then the connection is closed). nodemailer
 * reports some failures only as an 'error' event or a bare close, never to the callback: those end the wait too.
 */
export function withDeadline<T>(
  connection: SMTPConnection,
  ms: number,
  what: string,
  start: (done: (err: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = (err: Error | null | undefined, value?: T) => {
      clearTimeout(timer);
      connection.off('error', onError);
      connection.off('end', onEnd);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onError = (err: Error) => finish(err);
    const onEnd = () => finish(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
    const timer = setTimeout(() => {
      finish(Object.assign(new Error(`${what} took longer than ${ms} ms`), { code: 'ETIMEDOUT' }));
      connection.close();
    }, ms);
    connection.on('error', onError);
    connection.on('end', onEnd);
    start(finish);
  });
}

/** EHLO keywords, upper case, from the EHLO reply (lines after the first). */
function extensionsOf(ehloReply: string | false): Set<string> {
  if (!ehloReply) return new Set();
  const lines = ehloReply.split(/\r?\n/).slice(1);
  return new Set(
    lines
      .map((l) =>
        l
          .replace(/^\d{3}[- ]/, '')
          .split(' ')[0]
          .toUpperCase(),
      )
      .filter(Boolean),
  );
}

export class SmtpSession {
  private broken = false;
  /** Transactions run on this session so far (the pool caps it). */
  transactions = 0;
  lastUsedAt = Date.now();

  private constructor(
    readonly connection: SMTPConnection,
    readonly peer: SmtpPeer,
    readonly extensions: Set<string>,
  ) {
    connection.on('end', () => {
      this.broken = true;
    });
  }

  get label(): string {
    return peerLabel(this.peer);
  }

  get secure(): boolean {
    return this.connection.secure;
  }

  /** False once the connection closed or a step failed in a way that leaves its state unknown. */
  get usable(): boolean {
    return !this.broken && !this.connection.destroyed;
  }

  markBroken(): void {
    this.broken = true;
    this.connection.close();
  }

  /** Opens a session; throws SessionError with our reply when it cannot. */
  static async open(peer: SmtpPeer): Promise<SmtpSession> {
    const connection = new SMTPConnection(connectionOptions(peer));
    // An 'error' event without a listener would end the process; the callbacks report every error.
    connection.on('error', () => {});
    const label = peerLabel(peer);
    try {
      await withDeadline<void>(connection, peer.timeouts.stepMs, 'opening the session', (done) =>
        connection.connect((err) => done(err)),
      );
      if (peer.auth) {
        if (!connection.secure && !peer.allowPlaintextAuth) {
          throw new SessionError(ourReply.tlsRequired(label, 'no TLS, and credentials are never sent in the clear'));
        }
        const auth = peer.auth;
        await withDeadline<boolean | undefined>(connection, peer.timeouts.stepMs, 'AUTH', (done) =>
          connection.login({ user: auth.user, pass: auth.pass }, (err, ok) => done(err, ok)),
        );
      }
      return new SmtpSession(connection, peer, extensionsOf(connection.lastServerResponse));
    } catch (err) {
      connection.close();
      if (err instanceof SessionError) throw err;
      throw new SessionError(openFailureReply(label, err as NodemailerError));
    }
  }

  /** RSET before reusing a kept session: a server that dropped it idle is found here, before any mail. */
  async reset(): Promise<boolean> {
    if (!this.usable) return false;
    try {
      await withDeadline<boolean | undefined>(this.connection, this.peer.timeouts.socketMs, 'RSET', (done) =>
        this.connection.reset((err, ok) => done(err, ok)),
      );
      return true;
    } catch {
      this.markBroken();
      return false;
    }
  }

  /** QUIT, then close; resolves once the connection is closed (at most `socketMs` later). */
  quit(): Promise<void> {
    if (this.connection.destroyed) return Promise.resolve();
    this.broken = true;
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.connection.close();
        resolve();
      }, this.peer.timeouts.socketMs);
      timer.unref();
      this.connection.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connection.quit();
    return closed;
  }
}

function connectionOptions(peer: SmtpPeer): ConstructorParameters<typeof SMTPConnection>[0] {
  const { timeouts } = peer;
  // SNI carries names only (RFC 6066 §3).
  const servername = isIP(peer.hostname) ? undefined : peer.hostname;
  return {
    host: peer.address,
    port: peer.port,
    name: peer.heloName,
    secure: peer.tls === 'implicit',
    requireTLS: peer.tls === 'starttls',
    opportunisticTLS: peer.tls === 'opportunistic',
    ignoreTLS: peer.tls === 'none',
    servername,
    tls: {
      rejectUnauthorized: peer.verifyCertificate,
      servername,
      minVersion: 'TLSv1.2',
      ...(peer.ca ? { ca: peer.ca } : {}),
    },
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectMs,
    // Loopback and private addresses are refused (or allowed) by the caller, not by nodemailer's lookup.
    allowInternalNetworkInterfaces: true,
    logger: false,
  };
}
