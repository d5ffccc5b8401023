/**
 * smtp-server, adapted to the gateway. Two small subclasses, no patching of the library:
 *
 * - PosternSmtpServer.connect() is how the gateway's own listener hands over a socket it accepted (after the
 *   PROXY v2 header, the listener's cap and the per-IP limit), with the real client address and the
 *   listener's load.
 * - PosternConnection:
 *   - Replies whose text starts with an enhanced status code (our replies.ts) are sent as they are; smtp-server
 *     would otherwise add its own code by reply number (552 would become 5.2.2 instead of 5.3.4).
 *   - Counts 5xx replies; past maxErrors the session ends with 421 4.7.0 (a client probing addresses or
 *     sending junk cannot keep a connection forever).
 *   - Two idle timeouts: commandTimeoutMs between commands, dataTimeoutMs while message text arrives; both
 *     shrink to the stress timeout while the listener is under stress (lib/net/listenerLoad.ts).
 *   - The deadlines an idle timer cannot give (line, data rate, session, junk commands): sessionLimits.ts.
 *   - A STARTTLS handshake must finish within tlsHandshakeTimeoutMs.
 *   - EHLO offers AUTH only inside TLS (unless plaintext is allowed); AUTH before TLS gets 538 5.7.11.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import type { SmtpConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { ListenerLoad } from '../net/listenerLoad.ts';
import { ENHANCED_PREFIX, REPLIES, type Reply, replyText } from './replies.ts';
import { SessionLimits } from './sessionLimits.ts';

export interface PosternSmtpSettings {
  readonly smtp: SmtpConfig;
  readonly tlsHandshakeTimeoutMs: number;
  readonly log: Logger;
  /** Whether AUTH is offered before TLS (the emulator); otherwise EHLO lists it only inside TLS. */
  readonly allowPlaintextAuth: boolean;
}

export class PosternSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly settings: PosternSmtpSettings,
  ) {
    super(options);
  }

  get tuning(): SmtpConfig {
    return this.settings.smtp;
  }

  override connect(
    socket: Socket | TLSSocket,
    socketOptions?: SMTPConnectionOptions | null,
    load?: ListenerLoad,
  ): void {
    const connection = new PosternConnection(this, socket, socketOptions, load);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}

const withTimeoutListener = new WeakSet<object>();

export class PosternConnection extends SMTPConnection {
  /** 5xx replies sent in this session. */
  errorCount = 0;
  private readonly limits: SessionLimits;
  private readonly unwatchLoad: (() => void) | undefined;

  constructor(
    server: PosternSmtpServer,
    socket: Socket | TLSSocket,
    options: SMTPConnectionOptions | null | undefined,
    private readonly load?: ListenerLoad,
  ) {
    super(server, socket, options);
    this.limits = new SessionLimits(server.tuning, {
      end: (reply, why) => this.endSession(reply, why),
      waitingForUs: () => this._handlerPending || (!!this._dataStream && !this.inData()),
      inData: () => this.inData(),
      inputBacklog: () => !!this._parser && this._parser.writableLength > 0,
    });
    // Stress began: the idle timer is shortened at once, not only after the next reply.
    this.unwatchLoad = load?.watch(() => {
      if (!this._closing && !this._closed && !this._upgrading) this._armTimeout();
    });
  }

  private get settings(): PosternSmtpSettings {
    return (this._server as PosternSmtpServer).settings;
  }

  private inData(): boolean {
    return !!this._parser && this._parser._dataMode;
  }

  private idleTimeout(): number {
    const normal = this.inData() ? this.settings.smtp.dataTimeoutMs : this.settings.smtp.commandTimeoutMs;
    return this.load ? this.load.idleTimeout(normal) : normal;
  }

  private endSession(reply: Reply, why: string): void {
    if (this._closing || this._closed) return;
    this.settings.log.info('smtp session ended by a limit', { cid: this.id, remote: this.remoteAddress, why });
    this.send(reply.code, replyText(reply), false); // a 421 closes the connection
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    // RFC 4954 §4: AUTH before TLS is refused with 538 5.7.11 (smtp-server's own words lack the code)
    if (code === REPLIES.encryptionRequired.code) data = replyText(REPLIES.encryptionRequired);
    // RFC 3207 §4.2 and RFC 8314 §3: no AUTH in EHLO until the session is inside TLS, unless plaintext is allowed
    if (code === 250 && Array.isArray(data) && !this.secure && !this.settings.allowPlaintextAuth) {
      data = data.filter((line) => !line.startsWith('AUTH '));
    }
    const own = typeof data === 'string' && ENHANCED_PREFIX.test(data);
    super.send(code, data, own ? false : context);
    if (code >= 500 && !this._closing && !this._closed) {
      this.errorCount += 1;
      if (this.errorCount >= this.settings.smtp.maxErrors) {
        super.send(REPLIES.tooManyErrors.code, replyText(REPLIES.tooManyErrors), false);
        this.close();
        return;
      }
    }
    if (code === 354) this.limits.dataStarted();
    // RFC 5321 §4.2.5: 250 after the final dot means the message is ours; a new transaction may follow.
    if (code === 250 && context === 'DATA_OK') this.limits.progress();
    // the reply decides what the client owes us next: a command, or (after 354) message text
    if (!this._closing && !this._closed && this._socket && !this._socket.destroyed) {
      this._socket.setTimeout(this.idleTimeout());
    }
  }

  /** One 'timeout' listener per socket; the value follows the session's state (see send) and the load. */
  override _armTimeout(socket: Socket = this._socket): void {
    socket.setTimeout(this.idleTimeout());
    if (!withTimeoutListener.has(socket)) {
      withTimeoutListener.add(socket);
      socket.on('timeout', () => {
        if (socket === this._socket) this._onTimeout();
      });
    }
  }

  /** Every parser (the plain one, and the one after STARTTLS) shows its input to the session limits first. */
  override _createParser(): SMTPStream {
    const parser = super._createParser();
    const write = parser.write.bind(parser) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    parser.write = ((chunk: Buffer, ...rest: unknown[]) => {
      // `limits` is set once the constructor has run; nothing is written to the parser before that
      this.limits?.input(chunk);
      const taken = write(chunk, ...rest);
      if (!taken) this.limits?.backlog();
      return taken;
    }) as typeof parser.write;
    return parser;
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    // Only commands smtp-server would dispatch are counted (not an AUTH continuation, nor input during TLS).
    if (this._ready && !this._upgrading && !this._nextHandler && !this._closing) {
      const name = command.toString('latin1').split(' ')[0].toUpperCase();
      const known = this._isSupported(name) && !!this._getHandler(name);
      if (!this.limits.command(name, known)) {
        this.endSession(REPLIES.tooManyJunkCommands, 'junk commands');
        return;
      }
    }
    super._onCommand(command, callback);
  }

  /** STARTTLS: the handshake has tlsHandshakeTimeoutMs; bytes trickled into it do not extend that. */
  override upgrade(callback: () => void, secureCallback?: () => void): void {
    super.upgrade(callback, secureCallback);
    const plain = this._socket;
    const { tlsHandshakeTimeoutMs, log } = this.settings;
    const timer = setTimeout(() => {
      if (!this._upgrading || this._socket !== plain || plain.destroyed) return;
      log.info('smtp tls handshake timed out', { cid: this.id, remote: this.remoteAddress });
      plain.destroy(); // no reply: the client is mid-handshake, clear text would only corrupt it
    }, tlsHandshakeTimeoutMs);
    timer.unref();
  }

  override _onClose(): void {
    this.limits.stop();
    this.unwatchLoad?.();
    super._onClose();
  }
}
