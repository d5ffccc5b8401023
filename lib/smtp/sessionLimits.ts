/**
 * The bounds of one SMTP session that an idle timer cannot give. The socket's idle timer restarts on every
 * byte, so a client trickling a byte every few seconds is never idle and would keep its connection forever:
 *
 * - Line deadline: once a command line has started, its CRLF must come within lineTimeoutMs; partial bytes do
 *   not extend it. (Lines normally arrive whole: the timer is armed only when a chunk ends inside a line.)
 * - Data rate: while message text arrives, at least minDataRate bytes per second over each window. RFC 5321
 *   §4.5.3.2.6 gives the client minutes per data block, and a trickle of tiny blocks stays inside that.
 *   A window in which our side held unprocessed input (backpressure: storage is slow) is not held against the
 *   client.
 * - Session deadline: sessionTimeoutMs from the connection, whatever the client does; when it falls while the
 *   server is deciding (a handler runs, a message is being stored) the session ends once the reply is out.
 * - Junk commands: NOOP, RSET, VRFY, EXPN, HELP and unknown commands make no progress; past maxJunkCommands
 *   (counted anew after each accepted message) the session ends (Postfix's smtpd_junk_command_limit).
 *
 * Each of these ends the session with a 421 (RFC 5321 §3.8: the server may close with 421 at any time).
 */
import type { SmtpConfig } from '../core/config.ts';
import { REPLIES, type Reply } from './replies.ts';

export interface SessionLimitsHooks {
  /** Ends the session with this reply; `why` is for the log. */
  end(reply: Reply, why: string): void;
  /** Whether the client waits for us (a handler, the decision on a message): no deadline cuts that short. */
  waitingForUs(): boolean;
  /** Whether message text is being received (after 354, before the final dot). */
  inData(): boolean;
  /** Whether input the client sent is still unprocessed on our side (then the client is not the slow one). */
  inputBacklog(): boolean;
}

type Limits = Pick<
  SmtpConfig,
  'lineTimeoutMs' | 'minDataRate' | 'dataRateWindowMs' | 'sessionTimeoutMs' | 'maxJunkCommands'
>;

const JUNK_COMMANDS = new Set(['NOOP', 'RSET', 'VRFY', 'EXPN', 'HELP']);
const LF = 0x0a;
/** How often a session deadline that fell while the server was busy looks again. */
const RECHECK_MS = 250;

export class SessionLimits {
  private lineTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private sessionTimer: NodeJS.Timeout | undefined;
  private windowBytes = 0;
  private backlogInWindow = false;
  private junk = 0;
  private stopped = false;

  constructor(
    private readonly limits: Limits,
    private readonly hooks: SessionLimitsHooks,
  ) {
    this.sessionTimer = unrefTimer(() => this.sessionOver(), limits.sessionTimeoutMs);
  }

  /** Bytes from the client, before the parser has them. */
  input(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.hooks.inData()) {
      this.windowBytes += chunk.length;
      if (this.hooks.inputBacklog()) this.backlogInWindow = true;
      return;
    }
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === chunk.length - 1) this.clearLine();
    else if (lastLf >= 0 || !this.lineTimer) this.lineStarted();
  }

  /** The parser could not take the last chunk at once: our side is holding the client back. */
  backlog(): void {
    this.backlogInWindow = true;
  }

  /** The 354 reply went out: the client owes message text now. */
  dataStarted(): void {
    if (this.stopped) return;
    this.clearLine();
    this.windowBytes = 0;
    this.backlogInWindow = false;
    if (this.limits.minDataRate > 0 && !this.rateTimer) {
      this.rateTimer = setInterval(() => this.checkRate(), this.limits.dataRateWindowMs);
      this.rateTimer.unref();
    }
  }

  /** Counts a command by name; false when it is one junk command too many (the caller ends the session). */
  command(name: string, known: boolean): boolean {
    if (known && !JUNK_COMMANDS.has(name)) return true;
    this.junk++;
    return this.junk <= this.limits.maxJunkCommands;
  }

  /** A message was accepted: the session is making progress. */
  progress(): void {
    this.junk = 0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.lineTimer);
    clearInterval(this.rateTimer);
    clearTimeout(this.sessionTimer);
  }

  private lineStarted(): void {
    clearTimeout(this.lineTimer);
    this.lineTimer = unrefTimer(() => {
      this.lineTimer = undefined;
      if (!this.hooks.inData()) this.hooks.end(REPLIES.lineTimeout, 'line deadline');
    }, this.limits.lineTimeoutMs);
  }

  private clearLine(): void {
    clearTimeout(this.lineTimer);
    this.lineTimer = undefined;
  }

  private checkRate(): void {
    if (!this.hooks.inData()) {
      clearInterval(this.rateTimer);
      this.rateTimer = undefined;
      return;
    }
    const bytes = this.windowBytes;
    const excused = this.backlogInWindow || this.hooks.inputBacklog();
    this.windowBytes = 0;
    this.backlogInWindow = false;
    const needed = Math.ceil((this.limits.minDataRate * this.limits.dataRateWindowMs) / 1000);
    if (!excused && bytes < needed) this.hooks.end(REPLIES.dataTooSlow, 'data rate');
  }

  private sessionOver(): void {
    if (this.stopped) return;
    if (this.hooks.waitingForUs()) {
      this.sessionTimer = unrefTimer(() => this.sessionOver(), RECHECK_MS);
      return;
    }
    this.hooks.end(REPLIES.sessionTimeout, 'session deadline');
  }
}

function unrefTimer(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return timer;
}
