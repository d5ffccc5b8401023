/**
 * One POP3 session: the state machine of RFC 1939 §3 (AUTHORIZATION → TRANSACTION → UPDATE) over a line
 * reader. This file is the one place that decides which command may run in which state (from the table in
 * commands/index.ts), counts errors, and owns the socket (STLS swaps it for a TLS one); the commands live
 * in commands/ and reach storage only through the Pop3Backend.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { NotFoundError, TemporaryError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { type LineEvent, LineReader } from '../net/lineReader.ts';
import type { ListenerLoad } from '../net/listenerLoad.ts';
import type { Connection } from '../net/tcpListener.ts';
import { upgradeToTls } from '../net/tlsUpgrade.ts';
import type { TlsMaterial } from '../net/types.ts';
import { writeDrained } from '../net/writeDrained.ts';
import type { Maildrop, Pop3Backend, Pop3Message } from './backend.ts';
import {
  DotStuffing,
  err,
  MAX_LINE_HARD,
  ok,
  parseCommand,
  parseMessageNumber,
  type ResponseCode,
  TopCutter,
} from './codec.ts';
import { COMMANDS } from './commands/index.ts';

export type Pop3State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

export interface Pop3SessionOptions {
  readonly hostname: string;
  /** Whether USER/PASS and AUTH PLAIN are accepted before TLS (GatewayConfig.allowPlaintextAuth). */
  readonly allowPlaintextAuth: boolean;
  /** RFC 1939 §3: the autologout timer; at least 10 minutes unless configured otherwise. */
  readonly idleTimeoutMs: number;
  /** Errors (bad commands, failed logins) tolerated before the server closes the connection. */
  readonly maxErrors: number;
  readonly tls: TlsMaterial;
  /** Time the STLS handshake may take (NetConfig.tlsHandshakeTimeoutMs; 10 s when not given). */
  readonly tlsHandshakeTimeoutMs?: number;
}

/** Bytes gathered before a write while streaming a message (fewer, larger writes and TLS records). */
const WRITE_BATCH = 64 * 1024;

export class Pop3Session {
  state: Pop3State = 'AUTHORIZATION';
  secure: boolean;
  /** The user name given by USER, waiting for PASS. */
  pendingUser: string | undefined;
  maildrop: Maildrop | undefined;
  /** Message numbers marked by DELE (RFC 1939 §5: removed only in the UPDATE state). */
  readonly deleted = new Set<number>();
  readonly log: Logger;
  readonly cid: string;
  readonly remoteAddress: string;
  private socket: Socket;
  private readonly reader: LineReader;
  private readonly load: ListenerLoad | undefined;
  private readonly unwatchLoad: (() => void) | undefined;
  private errors = 0;
  private closed = false;
  private released = false;
  private retrieved = 0;
  /** The autologout timer, running while the session waits for the client's next line. */
  private autologout: NodeJS.Timeout | undefined;

  constructor(
    conn: Connection,
    readonly backend: Pop3Backend,
    readonly options: Pop3SessionOptions,
  ) {
    this.socket = conn.socket;
    this.secure = conn.secure;
    this.log = conn.log;
    this.cid = conn.cid;
    this.remoteAddress = conn.remoteAddress;
    this.reader = new LineReader(this.socket, { maxLineLength: MAX_LINE_HARD });
    this.load = conn.load;
    this.prepareSocket(this.socket);
    // Stress began on the listener: the autologout timer is shortened at once.
    this.unwatchLoad = conn.load?.watch(() => {
      if (!this.closed && this.autologout) this.armAutologout();
    });
  }

  /** Runs the session to its end; never throws. */
  async run(): Promise<void> {
    this.log.info('pop3 connected', { secure: this.secure });
    try {
      // RFC 1939 §4 greeting; no APOP timestamp, as APOP is not offered.
      this.send(ok(`${this.options.hostname} Postern POP3 server ready`));
      while (!this.closed) {
        const ev = await this.nextLine();
        if (!ev) break;
        await this.handle(ev);
      }
    } catch (e) {
      this.log.error('pop3 session failed', { err: e });
      this.socket.destroy();
    } finally {
      // A connection that ends without QUIT deletes nothing (RFC 1939 §6): the lease is simply released.
      this.unwatchLoad?.();
      await this.releaseMaildrop();
      this.end();
      this.log.info('pop3 disconnected', { state: this.state, retrieved: this.retrieved });
    }
  }

  // ---------------------------------------------------------------- what commands use

  /** Whether a password may be taken on this connection now (RFC 2595 §2.1 / GatewayConfig.allowPlaintextAuth). */
  get authAllowed(): boolean {
    return this.secure || this.options.allowPlaintextAuth;
  }

  send(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** A -ERR for something the client did wrong; counts towards the limit, past which the connection closes. */
  fail(text: string, code?: ResponseCode): void {
    this.errors++;
    if (this.errors >= this.options.maxErrors) {
      this.log.warn('pop3 too many errors, closing', { errors: this.errors });
      this.send(err(`${text}; too many errors, closing connection`, code));
      this.end();
      return;
    }
    this.send(err(text, code));
  }

  /** A -ERR that is not the client's fault (storage trouble, lock held): not counted. */
  refuse(text: string, code?: ResponseCode): void {
    this.send(err(text, code));
  }

  /** The next line from the client (a SASL response). Undefined when the connection ended. */
  readLine(): Promise<LineEvent | undefined> {
    return this.nextLine();
  }

  /** Closes the connection after what was written has been sent. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Authenticates and opens the maildrop: AUTHORIZATION → TRANSACTION (RFC 1939 §4). */
  async login(username: string, password: string): Promise<void> {
    this.pendingUser = undefined;
    const result = await this.backend.authenticate({ username, password, remoteAddress: this.remoteAddress });
    if (!result.ok) {
      if (result.reason === 'throttled') {
        this.log.warn('pop3 login throttled', { user: username });
        const minutes = Math.max(1, Math.ceil(result.retryAfterMs / 60_000));
        // RFC 3206 §4: [SYS/TEMP], a temporary refusal the client should not treat as a wrong password.
        return this.fail(`too many failed logins; try again in ${minutes} minute(s)`, 'SYS/TEMP');
      }
      this.log.info('pop3 login failed', { user: username });
      // RFC 3206 §3 / RFC 2449 §8: [AUTH], the credentials are wrong.
      return this.fail('invalid user name or password', 'AUTH');
    }
    const { account } = result;
    const opened = await this.backend.openMaildrop(account, { cid: this.cid, log: this.log });
    if (!opened.ok) {
      this.log.info('pop3 maildrop in use', { accountId: account.accountId });
      // RFC 2449 §8.1.2: [IN-USE], another session holds the maildrop lock (RFC 1939 §8).
      return this.refuse('maildrop is locked by another session; try again later', 'IN-USE');
    }
    this.maildrop = opened.maildrop;
    this.state = 'TRANSACTION';
    const { count, octets } = this.stat();
    this.log.info('pop3 login', { accountId: account.accountId, user: account.address, messages: count });
    this.send(ok(`maildrop has ${count} message(s) (${octets} octets)`));
  }

  /** Messages not marked deleted: count and total octets (STAT, RSET). */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const m of this.maildrop?.messages ?? []) {
      if (this.deleted.has(m.number)) continue;
      count++;
      octets += m.size;
    }
    return { count, octets };
  }

  /**
   * Resolves a message-number argument (RFC 1939 §5: never one marked deleted). Answers the error itself and
   * returns undefined when the argument is not a live message.
   */
  message(arg: string): Pop3Message | undefined {
    const messages = this.maildrop?.messages ?? [];
    const n = parseMessageNumber(arg);
    if (n === undefined) {
      this.fail(`invalid message number ${JSON.stringify(arg.slice(0, 20))}`);
      return undefined;
    }
    if (n > messages.length) {
      this.fail(`no such message: ${n} (maildrop has ${messages.length})`);
      return undefined;
    }
    if (this.deleted.has(n)) {
      this.fail(`message ${n} is already deleted`);
      return undefined;
    }
    return messages[n - 1];
  }

  /**
   * RETR and TOP: `+OK`, the message streamed from the store and dot-stuffed, then the terminating `.`.
   * With `topLines`, only the header, the blank line and that many body lines (RFC 1939 §7).
   */
  async sendMessage(message: Pop3Message, topLines?: number): Promise<void> {
    let source: Readable;
    try {
      source = await this.maildrop!.open(message);
    } catch (e) {
      if (e instanceof NotFoundError) {
        this.log.warn('pop3 message body missing', { uid: message.uid });
        return this.refuse(`message ${message.number} is no longer available`);
      }
      throw e;
    }
    const status = Buffer.from(topLines === undefined ? ok(`${message.size} octets`) : ok('top of message follows'));
    const cutter = topLines === undefined ? undefined : new TopCutter(topLines);
    const stuffing = new DotStuffing();
    let bytes = 0;
    // A plain loop (no stream pipeline): a 10 KB message is one or two chunks, for which the Transform and
    // pipeline machinery cost more than the dot-stuffing itself. Writes are batched up to WRITE_BATCH and wait
    // for the socket to drain, so a large message is never held whole.
    let batch: Buffer[] = [status];
    let size = status.length;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const out = cutter ? cutter.feed(chunk) : chunk;
        if (out.length > 0) {
          bytes += out.length;
          const stuffed = stuffing.stuff(out);
          batch.push(stuffed);
          size += stuffed.length;
          if (size >= WRITE_BATCH) {
            await this.write(batch.length === 1 ? batch[0] : Buffer.concat(batch, size));
            batch = [];
            size = 0;
          }
        }
        if (cutter?.done) break; // stops reading the blob (the stream is destroyed)
      }
      const end = stuffing.finish();
      batch.push(end);
      size += end.length;
      await this.write(batch.length === 1 ? batch[0] : Buffer.concat(batch, size));
    } catch (e) {
      source.destroy();
      // Part of the response may be out already: the only honest answer left is to close the connection.
      this.log.warn('pop3 message stream failed, closing', { err: e, uid: message.uid });
      this.closed = true;
      this.socket.destroy();
      return;
    }
    if (topLines === undefined) {
      this.retrieved++;
      if (bytes !== message.size)
        this.log.error('pop3 message size differs from index', { uid: message.uid, bytes, size: message.size });
    }
  }

  /** STLS (RFC 2595 §4): answer, then the TLS handshake on the same connection; the session starts over. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    // Anything pipelined after STLS was sent in clear text and must not be executed under TLS.
    const dropped = this.reader.detach();
    if (dropped > 0) this.log.warn('pop3 discarded plaintext pipelined after STLS', { bytes: dropped });
    await new Promise<void>((resolve) => plain.write(ok('Begin TLS negotiation'), () => resolve()));
    if (plain.destroyed) return this.end();
    const secure = await upgradeToTls(
      plain,
      this.options.tls,
      (e) => this.log.debug('pop3 tls error', { err: e }),
      this.options.tlsHandshakeTimeoutMs,
    );
    if (!secure) {
      this.log.info('pop3 tls handshake failed');
      this.closed = true;
      return;
    }
    this.socket = secure as unknown as Socket;
    this.secure = true;
    this.prepareSocket(secure as unknown as Socket);
    this.reader.attach(secure);
    // RFC 2595 §4: the server forgets what it learned before TLS; the client starts again from CAPA.
    this.pendingUser = undefined;
    this.log.info('pop3 tls started', { protocol: secure.getProtocol() });
  }

  /** QUIT in TRANSACTION: the UPDATE state (RFC 1939 §6), then the connection closes. */
  async update(): Promise<void> {
    this.state = 'UPDATE';
    const maildrop = this.maildrop!;
    const numbers = [...this.deleted];
    // The lock is released before the answer, so a client that reconnects right away finds the maildrop free.
    try {
      const { removed } = await maildrop.commit(numbers);
      await this.releaseMaildrop();
      const left = maildrop.messages.length - numbers.length;
      this.log.info('pop3 update', { deleted: removed });
      this.send(ok(`${this.options.hostname} Postern POP3 server signing off (${left} message(s) left)`));
    } catch (e) {
      await this.releaseMaildrop();
      this.log.warn('pop3 update failed; no messages removed', { err: e });
      const why = e instanceof TemporaryError ? 'storage is unavailable' : 'the maildrop lock was lost';
      // RFC 1939 §6: -ERR when messages could not be removed; RFC 3206 §4 [SYS/TEMP]: retrying may work.
      this.refuse(`some deleted messages were not removed: ${why}`, 'SYS/TEMP');
    } finally {
      this.end();
    }
  }

  /** Frees the maildrop lock (once). */
  private async releaseMaildrop(): Promise<void> {
    if (!this.maildrop || this.released) return;
    this.released = true;
    await this.maildrop.release();
  }

  // ---------------------------------------------------------------- internals

  private prepareSocket(socket: Socket): void {
    socket.setNoDelay?.(true);
    // A client may send its last commands and shut down its side at once (QUIT, then FIN): the answers
    // must still reach it, so the end of the client's stream does not end ours; end() does, after them.
    socket.allowHalfOpen = true;
    socket.on('error', (e) => this.log.debug('pop3 socket error', { err: e }));
    // Nothing moving either way (a client that stopped reading our RETR) ends the session too.
    socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('timeout', () => this.autologoutNow());
  }

  /**
   * The client's next line, under the RFC 1939 §3 autologout timer: it runs from when the session starts
   * waiting until a whole line has arrived, so a client trickling bytes of a line never resets it (a timer
   * on the socket would restart at every byte). On expiry the session does not enter UPDATE. Under stress it
   * is shorter than the RFC's 10 minutes: a flood of idle sessions must not lock real users out.
   */
  private async nextLine(): Promise<LineEvent | undefined> {
    this.armAutologout();
    try {
      return await this.reader.next();
    } finally {
      clearTimeout(this.autologout);
      this.autologout = undefined;
    }
  }

  private armAutologout(): void {
    clearTimeout(this.autologout);
    this.autologout = setTimeout(() => this.autologoutNow(), this.idleTimeout());
    this.autologout.unref();
  }

  private autologoutNow(): void {
    if (this.closed) return;
    this.log.info('pop3 idle timeout');
    this.send(err('autologout: idle for too long'));
    this.end();
  }

  private idleTimeout(): number {
    return this.load ? this.load.idleTimeout(this.options.idleTimeoutMs) : this.options.idleTimeoutMs;
  }

  private write(chunk: Buffer): Promise<void> {
    return writeDrained(this.socket, chunk);
  }

  private async handle(ev: LineEvent): Promise<void> {
    if (ev.kind === 'overlong') return this.fail(`line too long (at most 255 octets with CRLF)`);
    const cmd = parseCommand(ev.line, { allowLong: (k) => COMMANDS.get(k)?.longLine === true });
    if (!cmd.ok) return this.fail(cmd.error);
    const spec = COMMANDS.get(cmd.keyword);
    if (!spec) return this.fail(`unknown command ${cmd.keyword}`);
    if (!spec.states.includes(this.state)) {
      return this.fail(
        this.state === 'AUTHORIZATION'
          ? `${spec.name} is not allowed before login`
          : `${spec.name} is not allowed in the ${this.state} state`,
      );
    }
    const argc = spec.wholeArgument ? (cmd.rest === '' ? 0 : 1) : cmd.args.length;
    if (argc < spec.minArgs || argc > spec.maxArgs) return this.fail(`wrong arguments; usage: ${spec.usage}`);
    this.log.debug('pop3 command', { command: spec.name });
    try {
      await spec.handler(this, cmd.args, cmd.rest);
    } catch (e) {
      if (e instanceof TemporaryError) {
        this.log.warn('pop3 temporary failure', { command: spec.name, err: e });
        return this.refuse('temporary failure, try again later', 'SYS/TEMP');
      }
      this.log.error('pop3 command failed', { command: spec.name, err: e });
      this.refuse('internal error', 'SYS/TEMP');
    }
  }
}
