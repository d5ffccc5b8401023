/**
 * Keeps SMTP sessions to one next hop open between messages (keep-alive), as nodemailer's own pool does:
 * a kept session is checked with RSET before reuse, closed with QUIT after `idleMs` unused or after
 * `maxTransactions`, and at most `maxIdle` are kept. Sessions in use are not counted: the caller bounds
 * its own concurrency.
 */
import { type SmtpPeer, SmtpSession } from './smtpSession.ts';

export interface PoolLimits {
  readonly maxIdle: number;
  readonly idleMs: number;
  readonly maxTransactions: number;
}

export const DEFAULT_POOL: PoolLimits = { maxIdle: 4, idleMs: 30_000, maxTransactions: 100 };

interface Kept {
  readonly session: SmtpSession;
  readonly timer: NodeJS.Timeout;
}

export class SessionPool {
  private idle: Kept[] = [];
  private closed = false;

  constructor(
    private readonly peer: SmtpPeer,
    private readonly limits: PoolLimits = DEFAULT_POOL,
  ) {}

  /** A kept session that still answers, else a new one (SessionError when it cannot be opened). */
  async acquire(): Promise<SmtpSession> {
    for (let kept = this.idle.pop(); kept; kept = this.idle.pop()) {
      clearTimeout(kept.timer);
      if (await kept.session.reset()) return kept.session;
    }
    return SmtpSession.open(this.peer);
  }

  release(session: SmtpSession): void {
    const keep =
      !this.closed &&
      session.usable &&
      session.transactions < this.limits.maxTransactions &&
      this.idle.length < this.limits.maxIdle;
    if (!keep) {
      void session.quit();
      return;
    }
    const timer = setTimeout(() => {
      this.idle = this.idle.filter((k) => k.session !== session);
      void session.quit();
    }, this.limits.idleMs);
    timer.unref();
    this.idle.push({ session, timer });
  }

  /** Sessions kept open now (tests). */
  get idleCount(): number {
    return this.idle.length;
  }

  close(): void {
    this.closed = true;
    for (const kept of this.idle) {
      clearTimeout(kept.timer);
      void kept.session.quit();
    }
    this.idle = [];
  }
}
