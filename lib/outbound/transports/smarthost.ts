/**
 * The smarthost transport: every message goes to one relay (POSTERN_SMARTHOST=host:port) over nodemailer's
 * SMTP connection, with optional AUTH and the TLS mode configured, on sessions kept open between messages.
 * The relay's reply per recipient is the result: 2xx delivered, 4xx deferred, 5xx failed; no answer at all
 * is our 451 4.4.1 / 4.4.2.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import type { OutboundEnvelope, RecipientOutcome, Transport } from '../../core/outbound.ts';
import { outcomesFor } from './replies.ts';
import { DEFAULT_POOL, type PoolLimits, SessionPool } from './sessionPool.ts';
import {
  DEFAULT_TIMEOUTS,
  peerLabel,
  SessionError,
  type SmtpPeer,
  type SmtpSession,
  type SmtpTimeouts,
  type TlsMode,
} from './smtpSession.ts';
import { sendMessage } from './smtpTransaction.ts';

export interface SmarthostOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMode;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** PEM of CAs to trust besides the system's (a private relay). */
  readonly ca?: string;
  /** Check the relay's certificate; default true, except in opportunistic mode (which accepts any). */
  readonly verifyCertificate?: boolean;
  /** Send AUTH over a session without TLS; default false. */
  readonly allowPlaintextAuth?: boolean;
  /** Our name in EHLO. */
  readonly heloName: string;
  readonly timeouts?: SmtpTimeouts;
  readonly pool?: PoolLimits;
  /** A relay that gives no session is logged here. */
  readonly log?: Logger;
}

export class SmarthostTransport implements Transport {
  readonly name = 'smarthost';
  private readonly peer: SmtpPeer;
  private readonly pool: SessionPool;
  private readonly log?: Logger;

  constructor(options: SmarthostOptions) {
    this.log = options.log;
    this.peer = {
      address: options.host,
      hostname: options.host,
      port: options.port,
      tls: options.tls,
      verifyCertificate: options.verifyCertificate ?? options.tls !== 'opportunistic',
      ca: options.ca,
      auth: options.auth,
      allowPlaintextAuth: options.allowPlaintextAuth,
      heloName: options.heloName,
      timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
    };
    this.pool = new SessionPool(this.peer, options.pool ?? DEFAULT_POOL);
  }

  async deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]> {
    const label = peerLabel(this.peer);
    let session: SmtpSession;
    try {
      session = await this.pool.acquire();
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      this.log?.warn('smarthost gave no session', { relay: label, reply: err.reply });
      return outcomesFor(envelope.recipients, err.reply, label);
    }
    try {
      return await sendMessage(session, envelope, envelope.recipients, open, size);
    } finally {
      this.pool.release(session);
    }
  }

  /** Sessions kept open for the next message (tests). */
  get keptSessions(): number {
    return this.pool.idleCount;
  }

  /** Closes the kept sessions (QUIT); a later deliver opens new ones. */
  close(): void {
    this.pool.close();
  }
}
