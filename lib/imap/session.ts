/**
 * One IMAP session: the state machine of RFC 9051 §3 (not authenticated → authenticated → selected →
 * logout) over the codec's CommandReader. This file is the one place that decides which command may run in
 * which state (from the table in commands/index.ts); it counts errors, owns the socket (STARTTLS swaps it
 * for a TLS one) and runs the autologout timer while it waits for a command. Commands live in commands/
 * and reach storage only through the ImapBackend.
 */
import type { Socket } from 'node:net';
import { AlreadyExistsError, InvalidInputError, NotFoundError, TemporaryError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { type Account, MAX_ATOMIC_APPEND } from '../core/ports.ts';
import type { ListenerLoad } from '../net/listenerLoad.ts';
import type { Connection } from '../net/tcpListener.ts';
import { upgradeToTls } from '../net/tlsUpgrade.ts';
import type { TlsMaterial } from '../net/types.ts';
import { writeDrained } from '../net/writeDrained.ts';
import { AppendReceipts } from './appendRetry.ts';
import { AppendUpload, type StoredUpload } from './appendUpload.ts';
import { type ImapBackend, MessageGoneError } from './backend.ts';
import {
  type AppendHead,
  type Command,
  CommandReader,
  type CommandType,
  continuation,
  type FetchResponseItem,
  fetchResponseBuffer,
  type LineEvent,
  type LiteralEvent,
  parseAppendHead,
  parseCommand,
  type ReaderEvent,
  type ResponseCode,
  type Token,
  tagged,
  untagged,
  type WriteOptions,
} from './codec/index.ts';
import { COMMANDS, type ImapState } from './commands/index.ts';
import { isSaveSearch } from './commands/search.ts';
import { MAILBOX_CAPABILITIES } from './mailboxes.ts';
import type { SelectedMailbox } from './selected.ts';

export interface ImapSessionOptions {
  readonly hostname: string;
  /** Whether LOGIN and AUTHENTICATE PLAIN are accepted before TLS (Config.allowPlaintextAuth). */
  readonly allowPlaintextAuth: boolean;
  /** RFC 9051 §5.4: the autologout timer, at least 30 minutes unless configured otherwise. */
  readonly idleTimeoutMs: number;
  /** Errors (bad commands, failed logins) tolerated before the server closes the connection. */
  readonly maxErrors: number;
  readonly tls: TlsMaterial;
  /** Time the STARTTLS handshake may take (NetConfig.tlsHandshakeTimeoutMs; 10 s when not given). */
  readonly tlsHandshakeTimeoutMs?: number;
  /**
   * While IDLE, how often the session catches up on its own: changes made in other gateway tasks reach no
   * in-process notifier (default 30 s). Not used with a notifier that crosses tasks.
   */
  readonly idlePollMs?: number;
  /** RFC 7889: the largest APPEND message, in octets (default 50 MiB). */
  readonly appendLimit?: number;
}

const DEFAULT_IDLE_POLL_MS = 30_000;

/** APPEND messages already announced in a command's arguments (their literals, at top level or in a list). */
const messagesBefore = (args: readonly Token[]): number =>
  args.reduce((n, t) => n + (t.type === 'streamed' ? 1 : t.type === 'list' ? messagesBefore(t.items) : 0), 0);
const DEFAULT_APPEND_LIMIT = 50 * 1024 * 1024;
export const UTF8_APPEND_REFUSAL = 'APPEND UTF8 needs ENABLE UTF8=ACCEPT';
const LEAVING = new Set<CommandType>(['SELECT', 'EXAMINE', 'CLOSE', 'UNSELECT', 'LOGOUT']);
/** Received octets held before the socket is paused (the reader buffers what commands have not read). */
const HIGH_WATER = 256 * 1024;

export class ImapSession {
  state: ImapState = 'not-authenticated';
  secure: boolean;
  account: Account | undefined;
  /** RFC 7162 §3.1: CONDSTORE enabled (ENABLE, SELECT (CONDSTORE) or a command using mod-sequences). */
  condstore = false;
  /** RFC 7162 §3.2.3: QRESYNC enabled (ENABLE QRESYNC); implies CONDSTORE; expunges are told as VANISHED. */
  qresync = false;
  /** RFC 9051 §2.3: IMAP4rev2 enabled (ENABLE IMAP4rev2); responses follow RFC 9051 rather than RFC 3501. */
  imap4rev2 = false;
  /** RFC 6855 §3: UTF8=ACCEPT enabled: mailbox names and quoted strings in UTF-8. */
  utf8Accept = false;
  selected: SelectedMailbox | undefined;
  /** APPENDs answered whose retry records go when the client sends its next command (appendRetry.ts). */
  readonly appendReceipts: AppendReceipts;
  readonly log: Logger;
  readonly cid: string;
  readonly remoteAddress: string;
  private socket: Socket;
  private readonly reader: CommandReader;
  private readonly load: ListenerLoad | undefined;
  private readonly unwatchLoad: (() => void) | undefined;
  private errors = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private autologout: NodeJS.Timeout | undefined;

  constructor(
    conn: Connection,
    readonly backend: ImapBackend,
    readonly options: ImapSessionOptions,
  ) {
    this.socket = conn.socket;
    // RFC 7888 §4 LITERAL+: a non-synchronising literal of any size is taken (the per-literal limits still
    // apply); one that is refused is read and dropped, and past twice the APPENDLIMIT the connection ends.
    const maxDiscard = Math.max(2 * this.appendLimit, 64 * 1024 * 1024);
    this.reader = new CommandReader({
      limits: { maxAppendLiteral: this.appendLimit, maxNonSyncLiteral: Number.MAX_SAFE_INTEGER, maxDiscard },
    });
    this.secure = conn.secure;
    this.log = conn.log;
    this.appendReceipts = new AppendReceipts(backend.mail, conn.log);
    this.cid = conn.cid;
    this.remoteAddress = conn.remoteAddress;
    this.load = conn.load;
    this.prepareSocket(this.socket);
    this.unwatchLoad = conn.load?.watch(() => {
      if (!this.closed && this.autologout) this.armAutologout();
    });
  }

  /** Runs the session to its end; never throws. */
  async run(): Promise<void> {
    this.log.info('imap connected', { secure: this.secure });
    try {
      this.send(untagged('OK', `${this.options.hostname} Postern IMAP ready`, this.capabilityCode()));
      while (!this.closed) {
        const ev = await this.nextEvent();
        if (!ev) break;
        await this.handle(ev);
      }
    } catch (e) {
      this.log.error('imap session failed', { err: e });
      this.socket.destroy();
    } finally {
      this.unwatchLoad?.();
      this.abortUploads();
      this.selected = undefined;
      this.end();
      this.log.info('imap disconnected', { state: this.state });
    }
  }

  // ---------------------------------------------------------------- what commands use

  /**
   * Response options: mailbox names in modified UTF-7 and no 8-bit quoted strings unless UTF8=ACCEPT (RFC 6855
   * §3) or IMAP4rev2 (RFC 9051 §5.1, Appendix A) is enabled; the same switch decides how commands are read.
   */
  get writeOptions(): WriteOptions {
    return { utf8: this.utf8Accept || this.imap4rev2 };
  }

  /** Whether a password may be taken on this connection now (RFC 9051 §6.2.3 LOGINDISABLED). */
  get authAllowed(): boolean {
    return this.secure || this.options.allowPlaintextAuth;
  }

  /** RFC 9051 §7.2.2: what this server can do in the current state. Only what works is listed. */
  capabilities(): string[] {
    const caps = [
      'IMAP4rev1',
      'IMAP4rev2',
      'LITERAL+',
      'ID',
      'ENABLE',
      'NAMESPACE',
      'UNSELECT',
      'SPECIAL-USE',
      'MOVE',
      'IDLE',
      'UIDPLUS',
      'MULTIAPPEND',
      'BINARY',
      'SAVEDATE',
      'OBJECTID',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      'SEARCHRES',
      'UTF8=ACCEPT',
      `APPENDLIMIT=${this.appendLimit}`,
      ...MAILBOX_CAPABILITIES,
    ];
    if (this.state === 'not-authenticated') {
      if (!this.secure) caps.push('STARTTLS');
      if (this.authAllowed) caps.push('AUTH=PLAIN', 'SASL-IR');
      else caps.push('LOGINDISABLED');
    }
    return caps;
  }

  get appendLimit(): number {
    return this.options.appendLimit ?? DEFAULT_APPEND_LIMIT;
  }

  capabilityCode(): ResponseCode {
    return { code: 'CAPABILITY', capabilities: this.capabilities() };
  }

  send(data: Buffer): void {
    if (data.length > 0 && !this.socket.destroyed) this.corked().write(data);
  }

  /** Writes and waits for the socket to take it (large FETCH responses). */
  write(chunk: Buffer): Promise<void> {
    return writeDrained(this.corked(), chunk);
  }

  /**
   * The socket, corked until the next tick: what is written within one turn of the event loop goes out
   * together (a SELECT's eight lines in one system call; 10,000 FETCH lines in writes of 16 KB, not 10,000).
   */
  private corked(): Socket {
    const socket = this.socket;
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    return socket;
  }

  /** A tagged NO or BAD for something the client did wrong; past maxErrors the connection closes. */
  fail(tag: string, status: 'NO' | 'BAD', text: string, code?: ResponseCode): void {
    this.errors++;
    this.send(tagged(tag, status, text, code));
    if (this.errors >= this.options.maxErrors) {
      this.log.warn('imap too many errors, closing', { errors: this.errors });
      this.send(untagged('BYE', 'too many errors, closing connection'));
      this.end();
    }
  }

  /** A tagged NO that is not the client's fault (storage trouble): not counted. */
  refuse(tag: string, text: string, code?: ResponseCode): void {
    this.send(tagged(tag, 'NO', text, code));
  }

  /** The next raw line from the client (a SASL response, IDLE's DONE). Undefined when the connection ended. */
  async readLine(): Promise<Buffer | undefined> {
    this.reader.readLine();
    const ev = await this.nextEvent();
    return ev?.kind === 'line' ? (ev as LineEvent).line : undefined;
  }

  /** Closes the connection after what was written has been sent. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.state = 'logout';
    this.wake?.();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /**
   * IDLE: catches up with the selected mailbox whenever the notifier says it changed and on the poll timer,
   * one catch-up at a time. The returned function stops watching and waits for a catch-up in progress.
   */
  watchSelected(): () => Promise<void> {
    const box = this.selected;
    if (!box) return async () => {};
    let running: Promise<void> = Promise.resolve();
    let queued = false;
    const catchUp = () => {
      if (queued) return;
      queued = true;
      running = running.then(async () => {
        queued = false;
        if (this.selected !== box || this.closed) return;
        try {
          await this.tellChanges(true);
        } catch (e) {
          this.log.warn('imap idle catch-up failed', { err: e });
        }
      });
    };
    const notifier = this.backend.notifier;
    const unsubscribe = notifier?.subscribe(box.ref, catchUp);
    // a notifier that hears every writer (with its own per-mailbox backstop) spares each session a poll
    const timer = notifier?.crossesTasks
      ? undefined
      : setInterval(catchUp, this.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS);
    timer?.unref();
    return async () => {
      unsubscribe?.();
      clearInterval(timer);
      await running;
    };
  }

  /**
   * Tells what other sessions changed in the selected mailbox; expunges (as EXPUNGE, or VANISHED once QRESYNC
   * is on) only when `expunges` allows them now.
   */
  async tellChanges(expunges: boolean): Promise<void> {
    const mode = { expunges, vanished: this.qresync, write: this.writeOptions };
    const flagUpdate = (seq: number, uid: number) => this.flagsResponse(seq, uid);
    for (const r of await this.selected!.sync(this.backend.mail, mode, flagUpdate)) this.send(r);
  }

  /**
   * `* n FETCH (FLAGS (...))` (with MODSEQ once CONDSTORE is on, RFC 7162 §3.1.4), and UID if asked or once
   * QRESYNC is on (RFC 7162 §3.2.4) or under IMAP4rev2 (RFC 9051 §7.5.2: unsolicited FETCH MUST carry it).
   */
  flagsResponse(seq: number, uid: number, withUid = false): Buffer {
    const box = this.selected!;
    const items: FetchResponseItem[] = [{ item: 'FLAGS', flags: box.flagsOf(uid) }];
    if (withUid || this.qresync || this.imap4rev2) items.push({ item: 'UID', uid });
    if (this.condstore) items.push({ item: 'MODSEQ', modSeq: BigInt(box.modseqOf(uid)) });
    return fetchResponseBuffer(seq, items, this.writeOptions);
  }

  /** Checks the password and enters the authenticated state; answers the command either way. */
  async login(tag: string, username: string, password: string): Promise<void> {
    const result = await this.backend.authenticate({ username, password, remoteAddress: this.remoteAddress });
    if (!result.ok) {
      if (result.reason === 'throttled') {
        this.log.warn('imap login throttled', { user: username });
        // RFC 5530 §3: UNAVAILABLE, a temporary failure; the client should not call the password wrong.
        return this.fail(tag, 'NO', 'too many failed logins; try again later', { code: 'UNAVAILABLE' });
      }
      this.log.info('imap login failed', { user: username });
      return this.fail(tag, 'NO', 'invalid user name or password', { code: 'AUTHENTICATIONFAILED' });
    }
    this.account = result.account;
    this.state = 'authenticated';
    this.log.info('imap login', { accountId: result.account.accountId, user: result.account.address });
    // RFC 9051 §7.1: the capabilities change after login; saying them here saves the client a round trip.
    this.send(tagged(tag, 'OK', 'logged in', this.capabilityCode()));
  }

  /** STARTTLS (RFC 9051 §6.2.1): answer, then the handshake on the same connection. */
  async startTls(tag: string): Promise<void> {
    const plain = this.socket;
    // Anything pipelined after STARTTLS was sent in clear text and must not be obeyed under TLS.
    const dropped = this.reader.discardBuffered();
    if (dropped > 0) this.log.warn('imap discarded plaintext pipelined after STARTTLS', { bytes: dropped });
    plain.pause();
    plain.removeAllListeners('data');
    await new Promise<void>((resolve) => plain.write(tagged(tag, 'OK', 'begin TLS negotiation now'), () => resolve()));
    if (plain.destroyed) return this.end();
    const secure = await upgradeToTls(
      plain,
      this.options.tls,
      (e) => this.log.debug('imap tls error', { err: e }),
      this.options.tlsHandshakeTimeoutMs,
    );
    if (!secure) {
      this.log.info('imap tls handshake failed');
      this.closed = true;
      this.state = 'logout';
      return;
    }
    this.socket = secure as unknown as Socket;
    this.secure = true;
    this.prepareSocket(this.socket);
    this.log.info('imap tls started', { protocol: secure.getProtocol() });
  }

  /** The stored octets of an APPEND message by its literal's seq (the command's `streamed` placeholder). */
  takeUpload(seq: number): StoredUpload | Error | undefined {
    const done = this.finishedUploads.get(seq);
    this.finishedUploads.delete(seq);
    return done;
  }

  /** What APPEND's literals found before the command arrived: a refusal to answer with, if any. */
  takeAppendRefusal(): { text: string; code: ResponseCode } | undefined {
    const r = this.appendRefusal;
    this.appendRefusal = undefined;
    return r;
  }

  // ---------------------------------------------------------------- internals

  private readonly uploads = new Map<number, AppendUpload>();
  private readonly finishedUploads = new Map<number, StoredUpload | Error>();
  private appendRefusal: { text: string; code: ResponseCode } | undefined;

  /**
   * An APPEND message is about to arrive: checks the state and the mailbox before answering `+` (RFC 9051
   * §6.3.12: TRYCREATE instead of the octets), then streams it to the blob store.
   */
  private async startUpload(ev: LiteralEvent): Promise<void> {
    const refuse = (text: string, code: ResponseCode, status: 'NO' | 'BAD' = 'NO') => {
      if (ev.synchronizing) {
        this.reader.refuse();
        this.abortUploads();
        this.fail(ev.tag, status, text, code);
      } else this.appendRefusal ??= { text, code };
    };
    if (this.state !== 'authenticated' && this.state !== 'selected') {
      return refuse('log in first', { code: 'CLIENTBUG' }, 'BAD');
    }
    let head: AppendHead;
    try {
      head = parseAppendHead(ev.args, ev.depth, this.writeOptions);
    } catch (e) {
      return refuse(e instanceof Error ? e.message : 'bad APPEND', { code: 'CLIENTBUG' }, 'BAD');
    }
    // RFC 6855 §4: the UTF8 (~{n}) form belongs to UTF8=ACCEPT, which the client has to enable first.
    if (head.utf8 && !this.utf8Accept) return refuse(UTF8_APPEND_REFUSAL, { code: 'CLIENTBUG' }, 'BAD');
    // RFC 3502 §3: the messages commit together, so a command with more than one transaction holds is refused
    // at the first message too many, before its octets are sent.
    if (messagesBefore(ev.args) >= MAX_ATOMIC_APPEND) {
      return refuse(`at most ${MAX_ATOMIC_APPEND} messages in one APPEND`, { code: 'LIMIT' });
    }
    const mailbox = await this.backend.mail.getMailbox(this.account!.accountId, head.mailbox);
    if (!mailbox) return refuse('no such mailbox', { code: 'TRYCREATE' });
    this.uploads.set(ev.seq, new AppendUpload(this.backend, mailbox, head));
    if (ev.synchronizing) {
      this.reader.accept();
      this.send(continuation());
    }
  }

  private async endUpload(seq: number): Promise<void> {
    const upload = this.uploads.get(seq);
    if (!upload) return;
    this.uploads.delete(seq);
    try {
      this.finishedUploads.set(seq, await upload.finish());
    } catch (e) {
      upload.abort();
      this.finishedUploads.set(seq, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The command's uploads will not be appended: in-flight ones stop, and every blob goes. */
  private abortUploads(): void {
    for (const u of this.uploads.values()) u.abort();
    this.uploads.clear();
    this.dropFinishedUploads();
  }

  /** Stored uploads no APPEND took (a command that failed to parse, a refused MULTIAPPEND): their blobs go. */
  private dropFinishedUploads(): void {
    for (const done of this.finishedUploads.values()) {
      if (!(done instanceof Error)) void this.backend.deleteBlob(done.blobKey).catch(() => {});
    }
    this.finishedUploads.clear();
  }

  private prepareSocket(socket: Socket): void {
    socket.setNoDelay?.(true);
    socket.allowHalfOpen = true;
    socket.on('error', (e) => this.log.debug('imap socket error', { err: e }));
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      if (this.reader.buffered > HIGH_WATER) socket.pause();
      this.wake?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    // Nothing moving either way (a client that stopped reading a FETCH) ends the session too.
    socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('timeout', () => this.autologoutNow());
  }

  private ended = false;

  /**
   * The reader's next event, waiting for input under the autologout timer (RFC 9051 §5.4): it runs while
   * the session waits, so a client trickling bytes does not keep an idle session alive.
   */
  private async nextEvent(): Promise<ReaderEvent | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const ev = this.reader.next();
      if (ev) return ev;
      if (this.socket.isPaused()) this.socket.resume();
      if (this.ended) return undefined;
      if (!this.autologout) this.armAutologout();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  private armAutologout(): void {
    clearTimeout(this.autologout);
    this.autologout = setTimeout(() => this.autologoutNow(), this.idleTimeout());
    this.autologout.unref();
  }

  private stopAutologout(): void {
    clearTimeout(this.autologout);
    this.autologout = undefined;
  }

  private autologoutNow(): void {
    if (this.closed) return;
    this.log.info('imap idle timeout');
    this.send(untagged('BYE', 'autologout: idle for too long'));
    this.end();
  }

  private idleTimeout(): number {
    return this.load ? this.load.idleTimeout(this.options.idleTimeoutMs) : this.options.idleTimeoutMs;
  }

  private async handle(ev: ReaderEvent): Promise<void> {
    switch (ev.kind) {
      case 'command': {
        // A whole command arrived: the autologout timer stops until the session waits again.
        this.stopAutologout();
        await this.appendReceipts.clientMovedOn();
        const parsed = parseCommand(ev, this.writeOptions);
        try {
          if (!parsed.ok) {
            if (parsed.status === 'NO' && this.selected && isSaveSearch(ev)) this.selected.savedSearch = [];
            return this.fail(parsed.tag, parsed.status, parsed.message, parsed.code);
          }
          return await this.execute(parsed.command);
        } finally {
          this.dropFinishedUploads();
        }
      }
      case 'literal':
        if (ev.streamed) return this.startUpload(ev);
        if (ev.synchronizing) {
          this.reader.accept();
          this.send(continuation());
        }
        return;
      case 'literal-data':
        return this.uploads.get(ev.seq)?.write(ev.data);
      case 'literal-end':
        return this.endUpload(ev.seq);
      case 'line':
        return;
      case 'error': {
        const code: ResponseCode | undefined =
          ev.code === 'line-too-long' || ev.code === 'literal-too-large' ? { code: 'TOOBIG' } : undefined;
        this.abortUploads();
        // RFC 7889: a message over APPENDLIMIT is NO [TOOBIG], the command was fine.
        if (ev.tag && ev.name === 'APPEND' && ev.code === 'literal-too-large') {
          this.fail(ev.tag, 'NO', 'message too large', code);
          if (!ev.fatal) return;
        }
        if (ev.fatal) {
          this.send(untagged('BYE', ev.message));
          return this.end();
        }
        if (ev.tag) return this.fail(ev.tag, 'BAD', ev.message, code);
        this.errors++;
        this.send(untagged('BAD', ev.message, code));
        if (this.errors >= this.options.maxErrors) this.end();
        return;
      }
    }
  }

  /**
   * Tells what other sessions changed in the selected mailbox, before the command runs (so it precedes the
   * tagged answer). RFC 9051 §7.5.1: no EXPUNGE while a FETCH, STORE or SEARCH is in progress, and none
   * before a command that names messages by sequence number, which the client numbered before hearing it.
   */
  private async catchUp(command: Command): Promise<void> {
    // Commands that leave the mailbox have nothing to gain from its news.
    if (LEAVING.has(command.type)) return;
    const bySequence = 'uid' in command && command.uid === false;
    await this.tellChanges(!bySequence);
  }

  private async execute(command: Command): Promise<void> {
    const spec = COMMANDS.get(command.type);
    if (!spec) return this.fail(command.tag, 'BAD', `${command.type} is not supported`);
    if (!spec.states.includes(this.state)) {
      const why =
        this.state === 'not-authenticated'
          ? 'log in first'
          : this.state === 'authenticated'
            ? 'select a mailbox first'
            : 'not allowed now';
      return this.fail(command.tag, 'BAD', `${command.type}: ${why}`);
    }
    this.log.debug('imap command', { command: command.type });
    try {
      if (this.selected) await this.catchUp(command);
      await spec.run(this, command);
    } catch (e) {
      // A message's octets gone (FETCH and SEARCH handle it themselves): storage, not a missing mailbox.
      if (e instanceof MessageGoneError) {
        this.log.warn('imap message octets missing', { command: command.type, err: e });
        return this.refuse(command.tag, 'message data unavailable', { code: 'UNAVAILABLE' });
      }
      if (e instanceof NotFoundError) return this.fail(command.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
      if (e instanceof AlreadyExistsError)
        return this.fail(command.tag, 'NO', 'already exists', { code: 'ALREADYEXISTS' });
      if (e instanceof InvalidInputError) return this.fail(command.tag, 'NO', e.message, { code: 'CANNOT' });
      if (e instanceof TemporaryError) {
        this.log.warn('imap temporary failure', { command: command.type, err: e });
        return this.refuse(command.tag, 'temporary failure, try again later', { code: 'UNAVAILABLE' });
      }
      this.log.error('imap command failed', { command: command.type, err: e });
      this.refuse(command.tag, 'internal error', { code: 'SERVERBUG' });
    }
  }
}
