/**
 * The selected mailbox as one session sees it (RFC 9051 §2.3.1): message sequence numbers mapped to UIDs,
 * flags, and the changes other sessions made, applied only where RFC 9051 §7.5.1 allows. New messages and
 * flag changes may be told after any command; an expunge changes sequence numbers, so it is held back while
 * a FETCH, STORE or SEARCH runs (no `* n EXPUNGE` then) and told at the next command that allows it. Once
 * QRESYNC is on, an expunge is told as `* VANISHED uid-set` under the same rule (RFC 7162 §3.2.10.2).
 */
import type { MailboxRef, MailboxState, MessageIndexEntry } from '../core/ports.ts';
import type { ImapMailStore } from './backend.ts';
import {
  exists,
  expunge,
  flags,
  type NumberRange,
  rangeNumbers,
  resolveSequenceSet,
  type SequenceSet,
  untagged,
  vanished,
  type WriteOptions,
} from './codec/index.ts';

/**
 * Messages from which a catch-up reads only the changes (the change log and the modseq index) rather than
 * the whole index: below it the whole index is a single short read anyway.
 */
export const INCREMENTAL_SYNC_FROM = 1000;

/** System flags this server keeps (RFC 9051 §2.3.2); \Recent is gone in IMAP4rev2 and not kept. */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;

export interface Resolved {
  /** UIDs named by the set that the session shows, ascending. */
  readonly uids: number[];
  /** A sequence number past the last message: the command is BAD (RFC 9051 §9 seq-number). */
  readonly outOfRange: boolean;
}

/** How a catch-up may tell expunges. */
export interface SyncMode {
  /** Expunges may be told now (RFC 9051 §7.5.1); otherwise they wait for a command that allows them. */
  readonly expunges: boolean;
  /** QRESYNC is enabled: expunges are told as one `* VANISHED` of UIDs (RFC 7162 §3.2.10.2). */
  readonly vanished: boolean;
  /** How the session writes (a new keyword's FLAGS response). */
  readonly write: WriteOptions;
}

export class SelectedMailbox {
  /** UIDs in sequence-number order (index i is message i + 1). */
  private uids: number[] = [];
  private readonly flagsByUid = new Map<number, readonly string[]>();
  /** Each message's MODSEQ (RFC 7162 §3.1.4) as this session last heard it. */
  private readonly modseqByUid = new Map<number, number>();
  private highestModseq: number;
  private uidNext: number;

  private constructor(
    readonly ref: MailboxRef,
    public name: string,
    readonly uidValidity: number,
    readonly readOnly: boolean,
    public keywords: readonly string[],
    state: MailboxState,
  ) {
    this.highestModseq = state.highestModseq;
    this.uidNext = state.uidNext;
  }

  /** Reads the mailbox state first, then the index (ports.ts listIndex: the listing is then as current). */
  static async open(mail: ImapMailStore, state: MailboxState, readOnly: boolean): Promise<SelectedMailbox> {
    const ref = { accountId: state.accountId, mailboxId: state.mailboxId };
    const box = new SelectedMailbox(ref, state.name, state.uidValidity, readOnly, state.keywords, state);
    box.load(await mail.listIndex(ref));
    return box;
  }

  get count(): number {
    return this.uids.length;
  }

  get nextUid(): number {
    return this.uidNext;
  }

  get modseq(): number {
    return this.highestModseq;
  }

  get maxUid(): number {
    return this.uids.length > 0 ? this.uids[this.uids.length - 1] : 0;
  }

  /** Permanent flags: the system flags and every keyword the mailbox knows. */
  get flagNames(): string[] {
    return [...SYSTEM_FLAGS, ...this.keywords];
  }

  /** `* FLAGS (...)`: the flags the client may see on messages (RFC 9051 §7.3.5). */
  flagsLine(opts: WriteOptions): Buffer {
    return flags(this.flagNames, opts);
  }

  /** `* OK [PERMANENTFLAGS (...)]`: none in a read-only mailbox; `\*` as any keyword may be created. */
  permanentFlagsLine(): Buffer {
    return untagged('OK', this.readOnly ? 'no permanent flags' : 'flags kept', {
      code: 'PERMANENTFLAGS',
      flags: this.readOnly ? [] : [...this.flagNames, '\\*'],
    });
  }

  /**
   * The mailbox's keyword list changed (a keyword new to it): RFC 3501 §7.2.6 / RFC 9051 §7.3.5 want FLAGS
   * told again (and PERMANENTFLAGS, which also lists the keywords) before a FETCH carries the new one.
   */
  keywordLines(keywords: readonly string[], opts: WriteOptions): Buffer[] {
    const known = new Set(this.keywords);
    const changed = keywords.length !== known.size || keywords.some((k) => !known.has(k));
    this.keywords = keywords;
    if (!changed) return [];
    return this.readOnly ? [this.flagsLine(opts)] : [this.flagsLine(opts), this.permanentFlagsLine()];
  }

  flagsOf(uid: number): readonly string[] {
    return this.flagsByUid.get(uid) ?? [];
  }

  modseqOf(uid: number): number {
    return this.modseqByUid.get(uid) ?? 0;
  }

  /** This session's own change (STORE, \Seen by FETCH), with the message's new modseq. */
  setFlags(uid: number, flags: readonly string[], modseq: number): void {
    if (!this.flagsByUid.has(uid)) return;
    this.flagsByUid.set(uid, flags);
    this.modseqByUid.set(uid, modseq);
  }

  /** 1-based sequence number of a UID the session shows, or 0. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid];
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  uidAt(seq: number): number {
    return this.uids[seq - 1];
  }

  allUids(): readonly number[] {
    return this.uids;
  }

  /**
   * The UID ranges a UID set names, whether or not the session shows those messages, up to the last UID the
   * mailbox ever gave (`*` is UIDNEXT - 1): what QRESYNC asks about expunges of (RFC 7162 §3.2.6).
   */
  uidRanges(set: SequenceSet): NumberRange[] {
    return resolveSequenceSet(set, { uid: true, count: this.count, maxUid: this.uidNext - 1 }).ranges;
  }

  /**
   * RFC 5182 §2.1: the search result variable, as UIDs (SEARCH ... RETURN (SAVE)). It lives and dies with
   * this selection (SELECT, EXAMINE, CLOSE, UNSELECT start empty); `$` names those still shown, so an
   * expunged message drops out of it and new messages never join it.
   */
  savedSearch: readonly number[] = [];

  /** A set as ranges of UIDs or of message numbers, `$` included (SEARCH's UID and sequence keys). */
  ranges(set: SequenceSet, uid: boolean): NumberRange[] {
    return this.resolveRanges(set, uid).ranges;
  }

  /** The UIDs a sequence set names (by UID or by number, `$` being the saved search), ascending. */
  resolve(set: SequenceSet, uid: boolean): Resolved {
    const { ranges, outOfRange } = this.resolveRanges(set, uid);
    const uids: number[] = [];
    if (uid) {
      for (const [first, last] of ranges) {
        for (let i = this.lowerBound(first); i < this.uids.length && this.uids[i] <= last; i++) uids.push(this.uids[i]);
      }
    } else {
      for (const n of rangeNumbers(ranges)) uids.push(this.uids[n - 1]);
    }
    return { uids, outOfRange };
  }

  /**
   * Catches up with the store: returns the untagged responses to send (EXPUNGE or VANISHED only when
   * `mode.expunges` allows, then EXISTS and flag FETCHes). Messages expunged meanwhile stay visible until then.
   */
  async sync(mail: ImapMailStore, mode: SyncMode, flagUpdate: (seq: number, uid: number) => Buffer): Promise<Buffer[]> {
    const state = await mail.getMailboxById(this.ref.accountId, this.ref.mailboxId);
    if (!state) return [];
    const out = this.keywordLines(state.keywords, mode.write);
    const unchanged = state.highestModseq === this.highestModseq && state.uidNext === this.uidNext;
    if (unchanged && !this.pendingExpunge) return out;
    const { gone, index } = await this.newsSince(mail);
    this.pendingExpunge = gone.length > 0 && !mode.expunges;
    this.goneElsewhere = new Set(this.pendingExpunge ? gone : []);
    if (mode.expunges) {
      const seqs = this.removeExpunged(gone);
      if (mode.vanished) {
        if (gone.length > 0) out.push(vanished(gone, false));
      } else for (const seq of seqs) out.push(expunge(seq));
      this.toldUpTo = undefined;
    } else if (this.pendingExpunge) {
      this.toldUpTo ??= this.highestModseq;
    }
    const before = this.uids.length;
    const top = this.maxUid;
    for (const e of index) {
      if (e.uid > top) {
        this.uids.push(e.uid);
        this.flagsByUid.set(e.uid, e.flags);
        this.modseqByUid.set(e.uid, e.modseq);
      }
    }
    if (this.uids.length !== before) out.push(exists(this.uids.length));
    for (const e of index) {
      if (e.uid > top) continue;
      if (this.modseqByUid.has(e.uid)) this.modseqByUid.set(e.uid, e.modseq);
      const old = this.flagsByUid.get(e.uid);
      if (old && !sameFlags(old, e.flags)) {
        this.flagsByUid.set(e.uid, e.flags);
        out.push(flagUpdate(this.seqOf(e.uid), e.uid));
      }
    }
    // RFC 7162 §3.2: MODSEQs told while an expunge waits (these, or the command's own) must come with a
    // HIGHESTMODSEQ below that expunge's, or a client that disconnects now would resynchronise past it.
    if (mode.vanished && this.toldUpTo !== undefined) {
      out.push(untagged('OK', 'expunges pending', { code: 'HIGHESTMODSEQ', value: BigInt(this.toldUpTo) }));
    }
    this.highestModseq = state.highestModseq;
    this.uidNext = state.uidNext;
    return out;
  }

  /**
   * What changed since this session last caught up: the UIDs it shows that are gone, and the index entries
   * of messages new or changed since (ascending by UID). A big mailbox reads only that from the change log
   * and the modseq index, instead of every index item after each change somebody made; a small one, or one
   * whose change history has expired, is compared against the whole index (one short read).
   */
  private async newsSince(mail: ImapMailStore): Promise<{ gone: number[]; index: readonly MessageIndexEntry[] }> {
    const whole = async () => {
      const index = await mail.listIndex(this.ref);
      const live = new Set(index.map((e) => e.uid));
      return { gone: this.uids.filter((u) => !live.has(u)), index };
    };
    if (this.uids.length < INCREMENTAL_SYNC_FROM) return whole();
    const history = await mail.changesSince(this.ref, this.highestModseq);
    if (!history.complete) return whole();
    const expunged = new Set(this.goneElsewhere);
    for (const change of history.changes) {
      if (change.kind !== 'expunge') continue;
      for (const uid of change.uids) if (this.flagsByUid.has(uid)) expunged.add(uid);
    }
    const changed = history.changes.some((c) => c.kind !== 'expunge')
      ? await mail.listChangedSince(this.ref, this.highestModseq)
      : [];
    const index = changed.filter((e) => !expunged.has(e.uid)).sort((a, b) => a.uid - b.uid);
    return { gone: this.uids.filter((u) => expunged.has(u)), index };
  }

  /**
   * Whether the message is still shown but another session expunged it (found at the last catch-up, which
   * could not tell it yet): RFC 2180 §4 says what FETCH, STORE and COPY then answer.
   */
  expungedElsewhere(uid: number): boolean {
    return this.goneElsewhere.has(uid);
  }

  /** Removes UIDs this session expunged itself; returns their sequence numbers, highest first. */
  removeExpunged(uids: readonly number[]): number[] {
    const gone = new Set(uids);
    for (const uid of uids) this.goneElsewhere.delete(uid);
    const seqs: number[] = [];
    for (let i = this.uids.length - 1; i >= 0; i--) {
      if (!gone.has(this.uids[i])) continue;
      seqs.push(i + 1);
      this.flagsByUid.delete(this.uids[i]);
      this.modseqByUid.delete(this.uids[i]);
      this.uids.splice(i, 1);
    }
    return seqs;
  }

  private pendingExpunge = false;
  /** UIDs expunged elsewhere that this session still shows (while pendingExpunge). */
  private goneElsewhere = new Set<number>();
  /** While expunges wait: the modseq up to which this session has told everything (RFC 7162 §3.2). */
  private toldUpTo: number | undefined;

  private resolveRanges(set: SequenceSet, uid: boolean) {
    const saved: NumberRange[] = [];
    if (set.kind === 'saved') {
      for (const u of this.savedSearch) {
        const seq = this.seqOf(u);
        if (seq > 0) saved.push(uid ? [u, u] : [seq, seq]);
      }
    }
    return resolveSequenceSet(set, { uid, count: this.count, maxUid: this.maxUid, saved });
  }

  private load(index: readonly MessageIndexEntry[]): void {
    this.uids = index.map((e) => e.uid);
    for (const e of index) {
      this.flagsByUid.set(e.uid, e.flags);
      this.modseqByUid.set(e.uid, e.modseq);
    }
  }

  private lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.uids[mid] < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
