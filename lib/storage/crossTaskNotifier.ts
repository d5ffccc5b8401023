/**
 * The ChangeNotifier of a gateway task among several: the in-process fan-out, fed also by notices of commits
 * made elsewhere (other tasks, the store Lambda) that the notify function relays, and by a slow backstop that
 * reads each mailbox in use once per period, in case a notice was lost. Both cost per mailbox, never per
 * session: one notice or one read wakes every session of the task watching that mailbox.
 */
import type { ChangeNotifier, MailboxEvent, MailboxRef, NotifyScope } from '../core/ports.ts';
import type { ChangeNotice } from './changeFeedNotice.ts';
import { InProcessChangeNotifier } from './changeNotifier.ts';

/** Reads a mailbox's HIGHESTMODSEQ (undefined: gone); the backstop's one read per mailbox in use. */
export type ReadHighestModseq = (ref: MailboxRef) => Promise<number | undefined>;

/** Mailboxes whose last known modseq is kept; past this the memory is dropped (worst case: one extra catch-up). */
const MAX_KNOWN = 50_000;

const keyOf = (accountId: string, mailboxId: string) => `${accountId}#${mailboxId}`;

export class CrossTaskChangeNotifier implements ChangeNotifier {
  readonly crossesTasks = true;
  private readonly local: InProcessChangeNotifier;
  /** Highest modseq this task has announced per mailbox: a notice at or below it is old news. */
  private readonly known = new Map<string, number>();
  /** Mailboxes with mailbox-scoped subscribers (sessions in IDLE), and how many. */
  private readonly inUse = new Map<string, { ref: MailboxRef; count: number }>();
  private backstopTimer: NodeJS.Timeout | undefined;
  private backstopRunning = false;

  constructor(private readonly onError: (err: unknown) => void = () => {}) {
    this.local = new InProcessChangeNotifier(onError);
  }

  /** A commit of this process: its own sessions hear it at once (the notice that follows is then old news). */
  publish(event: MailboxEvent): void {
    if (event.type === 'messages') this.advance(event.accountId, event.change.mailboxId, event.change.modseq);
    this.local.publish(event);
  }

  subscribe(scope: NotifyScope, listener: (event: MailboxEvent) => void): () => void {
    const unsubscribe = this.local.subscribe(scope, listener);
    if (scope.mailboxId === undefined) return unsubscribe;
    const key = keyOf(scope.accountId, scope.mailboxId);
    const entry = this.inUse.get(key) ?? { ref: { accountId: scope.accountId, mailboxId: scope.mailboxId }, count: 0 };
    entry.count += 1;
    this.inUse.set(key, entry);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      entry.count -= 1;
      if (entry.count === 0 && this.inUse.get(key) === entry) this.inUse.delete(key);
    };
  }

  /** Notices from the notify function: each newer than what this task knows wakes that mailbox's sessions. */
  receive(notices: readonly ChangeNotice[]): void {
    for (const n of notices) this.announce(n.accountId, n.mailboxId, n.modseq);
  }

  /**
   * Every `everyMs`, reads each mailbox in use and wakes its sessions if it moved past what this task knows
   * (a lost notice). Reads run one at a time; a period that finds the last run still going is skipped.
   */
  startBackstop(read: ReadHighestModseq, everyMs: number): void {
    this.stopBackstop();
    this.backstopTimer = setInterval(() => void this.runBackstop(read), everyMs);
    this.backstopTimer.unref();
  }

  stopBackstop(): void {
    clearInterval(this.backstopTimer);
    this.backstopTimer = undefined;
  }

  /** One backstop pass (the timer's; tests call it directly). */
  async runBackstop(read: ReadHighestModseq): Promise<void> {
    if (this.backstopRunning) return;
    this.backstopRunning = true;
    try {
      for (const { ref } of [...this.inUse.values()]) {
        try {
          const modseq = await read(ref);
          if (modseq !== undefined) this.announce(ref.accountId, ref.mailboxId, modseq);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.backstopRunning = false;
    }
  }

  /** Mailboxes the backstop reads (a gauge, and tests). */
  get mailboxesInUse(): number {
    return this.inUse.size;
  }

  /** Records `modseq` as known; true when it is news. */
  private advance(accountId: string, mailboxId: string, modseq: number): boolean {
    const key = keyOf(accountId, mailboxId);
    const known = this.known.get(key);
    if (known !== undefined && known >= modseq) return false;
    if (this.known.size >= MAX_KNOWN && known === undefined) this.known.clear();
    this.known.set(key, modseq);
    return true;
  }

  /**
   * Wakes the mailbox's sessions when `modseq` is news; a mailbox this task knew nothing of counts as news (its
   * sessions may have missed the very change that made it).
   */
  private announce(accountId: string, mailboxId: string, modseq: number): void {
    if (this.advance(accountId, mailboxId, modseq))
      this.local.publish({ type: 'modseq', accountId, mailboxId, modseq });
  }
}
