/**
 * What QRESYNC (RFC 7162 §3.2) tells a client: the UIDs expunged since its modseq (`* VANISHED (EARLIER)`, for
 * SELECT/EXAMINE (QRESYNC ...) and UID FETCH ... (CHANGEDSINCE n VANISHED)), the part of its known UIDs its
 * sequence-number/UID pairs show it already knows about (§3.2.5.2), and this session's own expunges as
 * VANISHED rather than EXPUNGE once it is enabled (§3.2.10.2).
 */
import type { ImapMailStore } from './backend.ts';
import {
  expunge,
  mergeRanges,
  type NumberRange,
  type QresyncParams,
  rangesContain,
  type SequenceSet,
  vanished,
} from './codec/index.ts';
import type { SelectedMailbox } from './selected.ts';
import type { ImapSession } from './session.ts';

/**
 * The UIDs of `known` (sorted, merged ranges) expunged after modseq `since`, as far as this session's view
 * goes (only UIDs it no longer shows, only changes up to the modseq it has caught up to). From the change log
 * when it reaches back to `since`; when it does not (records expired: MailStore.changesSince says incomplete),
 * every known UID the mailbox no longer holds, which is all the client can need and never wrong: a UID once
 * gone never comes back.
 */
export async function vanishedSince(
  mail: ImapMailStore,
  box: SelectedMailbox,
  since: number,
  known: readonly NumberRange[],
): Promise<NumberRange[]> {
  if (known.length === 0 || since >= box.modseq) return [];
  const history = await mail.changesSince(box.ref, since);
  if (!history.complete) return absentFrom(known, box.allUids());
  const uids = history.changes
    .filter((c) => c.kind === 'expunge' && c.modseq <= box.modseq)
    .flatMap((c) => c.uids)
    .filter((uid) => box.seqOf(uid) === 0 && rangesContain(known, uid));
  return mergeRanges(uids.map((uid): NumberRange => [uid, uid]));
}

/**
 * Tells the session's own expunge (EXPUNGE, UID EXPUNGE, MOVE) of the UIDs it shows: `* n EXPUNGE` per
 * message, highest first, or one `* VANISHED uid-set` once QRESYNC is on (RFC 7162 §3.2.10.2).
 */
export function tellExpunged(session: ImapSession, uids: readonly number[]): void {
  const box = session.selected!;
  const shown = uids.filter((u) => box.seqOf(u) > 0);
  const seqs = box.removeExpunged(shown);
  if (session.qresync) session.send(vanished(shown, false));
  else for (const seq of seqs) session.send(expunge(seq));
}

/** A client's 64-bit modseq in the store's numbers (clamped: past any modseq the store will reach). */
export function modseqNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** The parts of sorted, merged `ranges` that hold none of the ascending `present` UIDs. */
export function absentFrom(ranges: readonly NumberRange[], present: readonly number[]): NumberRange[] {
  const out: NumberRange[] = [];
  let i = 0;
  for (const [first, last] of ranges) {
    let next = first;
    while (i < present.length && present[i] < first) i++;
    for (; i < present.length && present[i] <= last; i++) {
      if (present[i] > next) out.push([next, present[i] - 1]);
      next = present[i] + 1;
    }
    if (next <= last) out.push([next, last]);
  }
  return out;
}

type SeqMatch = NonNullable<QresyncParams['seqMatch']>;

/** A set's numbers as the client wrote them, range by range (no `*` or `$`: the parser refuses them here). */
function* numbersOf(set: SequenceSet): Generator<number> {
  if (set.kind !== 'ranges') return;
  for (const { start, end } of set.ranges) {
    const [a, b] = [Number(start), Number(end)].sort((x, y) => x - y);
    for (let n = a; n <= b; n++) yield n;
  }
}

function sizeOf(set: SequenceSet): number {
  if (set.kind !== 'ranges') return 0;
  return set.ranges.reduce((sum, { start, end }) => sum + Math.abs(Number(end) - Number(start)) + 1, 0);
}

/** RFC 7162 §3.2.5.2: seq-match-data pairs each known sequence number with a UID, so the sets agree in size. */
export function seqMatchPairs(seqMatch: SeqMatch): boolean {
  return sizeOf(seqMatch.sequences) === sizeOf(seqMatch.uids);
}

/**
 * RFC 7162 §3.2.5.2 seq-match-data: where a (sequence number, UID) pair of the client's still holds, the
 * client has heard of every expunge up to that UID. Returns the UID of the last pair that holds, walking in
 * order and stopping at the first that does not (or that does not ascend, or lies past the last message), so
 * the walk is bounded by the mailbox; 0 when none holds.
 */
export function matchedUid(box: SelectedMailbox, seqMatch: SeqMatch): number {
  const uids = numbersOf(seqMatch.uids);
  let matched = 0;
  let lastSeq = 0;
  for (const seq of numbersOf(seqMatch.sequences)) {
    const uid = uids.next().value;
    if (uid === undefined || seq <= lastSeq || uid <= matched || seq > box.count || box.uidAt(seq) !== uid) break;
    matched = uid;
    lastSeq = seq;
  }
  return matched;
}
