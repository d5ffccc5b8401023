/**
 * smtp-server, adapted to the gateway. Two small subclasses, no patching of the library:
 *
 * - PosternSmtpServer.connect() is how the gateway's own listener hands over a socket it accepted (after the
 *   PROXY v2 header and the per-IP limit), with the real client address.
 * - PosternConnection:
 *   - Replies whose text starts with an enhanced status code (our replies.ts) are sent as they are; smtp-server
 *     would otherwise add its own code by reply number (552 would become 5.2.2 instead of 5.3.4).
 *   - Counts 5xx replies; past maxErrors the session ends with 421 4.7.0 (a client probing addresses or
 *     sending junk cannot keep a connection forever).
 *   - Two idle timeouts: commandTimeoutMs between commands, dataTimeoutMs while message text arrives.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import type { SmtpConfig } from '../core/config.ts';
import { ENHANCED_PREFIX, REPLIES, replyText } from './replies.ts';

export class PosternSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly tuning: SmtpConfig,
  ) {
    super(options);
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new PosternConnection(this, socket, socketOptions);
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

  private get tuning(): SmtpConfig {
    return (this._server as PosternSmtpServer).tuning;
  }

  private inData(): boolean {
    return !!this._parser && this._parser._dataMode;
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const own = typeof data === 'string' && ENHANCED_PREFIX.test(data);
    super.send(code, data, own ? false : context);
    if (code >= 500 && !this._closing && !this._closed) {
      this.errorCount += 1;
      if (this.errorCount >= this.tuning.maxErrors) {
        super.send(REPLIES.tooManyErrors.code, replyText(REPLIES.tooManyErrors), false);
        this.close();
        return;
      }
    }
    // the reply decides what the client owes us next: a command, or (after 354) message text
    if (!this._closing && !this._closed && this._socket && !this._socket.destroyed) {
      this._socket.setTimeout(this.inData() ? this.tuning.dataTimeoutMs : this.tuning.commandTimeoutMs);
    }
  }

  /** One 'timeout' listener per socket; the value follows the session's state (see send). */
  override _armTimeout(socket: Socket = this._socket): void {
    socket.setTimeout(this.inData() ? this.tuning.dataTimeoutMs : this.tuning.commandTimeoutMs);
    if (!withTimeoutListener.has(socket)) {
      withTimeoutListener.add(socket);
      socket.on('timeout', () => {
        if (socket === this._socket) this._onTimeout();
      });
    }
  }
}
