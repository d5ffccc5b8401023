/**
 * An APPEND retried after a lost connection makes no second copy (issue #8: "idempotent on retry where the
 * client gives no way to tell"). A client whose connection broke after it sent the message but before it
 * read the tagged OK cannot know whether the message was stored, and sends it again. So each APPEND commits
 * with an idempotency record keyed by what the client sent (the mailbox, each message's SHA-256, flags and
 * given date), for a short while: a retry within it gets the first APPENDUID and no new copy.
 *
 * Two deliberate identical APPENDs must still give two copies, so the record only outlives the session's
 * answer while the client may not have read it: the session drops it (AppendReceipts) as soon as the client
 * sends its next command on the same connection, by which time it has the answer or no longer waits for it
 * (a client that pipelined that command and then lost the connection retries into a duplicate: the one
 * case left). A connection that ends without a further command (no LOGOUT either) keeps it for the retry.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../core/log.ts';
import type { MailboxRef } from '../core/ports.ts';
import type { ImapMailStore } from './backend.ts';

/** How long an unanswered APPEND's record lasts: long enough for a client to reconnect and retry. */
export const APPEND_RETRY_TTL_SECONDS = 600;

export interface AppendedMessage {
  /** SHA-256 of the octets as sent (hex). */
  readonly sha256: string;
  readonly flags: readonly string[];
  /** The date-time the client gave, if any (without one the server's clock is used, the same on a retry). */
  readonly internalDate?: number;
}

/** The key of one APPEND command (all of its messages: a MULTIAPPEND is one group, RFC 3502). */
export function appendRetryKey(messages: readonly AppendedMessage[]): string {
  const described = messages.map((m) => [
    m.sha256,
    [...new Set(m.flags.map((f) => f.toLowerCase()))].sort(),
    m.internalDate ?? null,
  ]);
  return `imap-append:${createHash('sha256').update(JSON.stringify(described)).digest('hex')}`;
}

/** The records of APPENDs this session answered, to drop once the client has moved on. */
export class AppendReceipts {
  private answered: { ref: MailboxRef; key: string }[] = [];

  constructor(
    private readonly mail: ImapMailStore,
    private readonly log: Logger,
  ) {}

  /** The APPEND's tagged OK was sent. */
  answeredAppend(ref: MailboxRef, key: string): void {
    this.answered.push({ ref, key });
  }

  /**
   * The client sent another command: it has read the answers, so identical APPENDs from now on are meant.
   * Awaited before that command runs (one DeleteItem, once per APPEND), so once it is answered no session
   * meets the record any more. A failure only leaves the record to expire.
   */
  async clientMovedOn(): Promise<void> {
    if (this.answered.length === 0) return;
    const done = this.answered;
    this.answered = [];
    await Promise.all(
      done.map(({ ref, key }) =>
        this.mail.forgetIdempotencyKey(ref, key).catch((e: unknown) => {
          this.log.warn('imap append record not dropped', { err: e });
        }),
      ),
    );
  }
}
