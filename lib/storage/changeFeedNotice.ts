/**
 * The notice the notify function sends each gateway task when a change record commits: which mailbox, its new
 * modseq and the kind of change, nothing more (no UIDs, no names: a session catches up from the change log).
 * Notices travel in UDP datagrams of JSON, `{"v":1,"n":[[accountId, mailboxId, modseq, kind], ...]}`, each
 * small enough for any path MTU, so a datagram is never fragmented.
 */
import type { ChangeKind } from '../core/ports.ts';

export interface ChangeNotice {
  readonly accountId: string;
  readonly mailboxId: string;
  readonly modseq: number;
  readonly kind: ChangeKind;
}

/** Bytes of JSON per datagram: below the 1,280 octets of IPv6's minimum MTU, less IP and UDP headers. */
export const MAX_DATAGRAM_BYTES = 1200;
const VERSION = 1;
const KINDS: ReadonlySet<string> = new Set<ChangeKind>(['append', 'flags', 'expunge']);

type Wire = [string, string, number, ChangeKind];
const wire = (n: ChangeNotice): Wire => [n.accountId, n.mailboxId, n.modseq, n.kind];
const envelope = (entries: readonly Wire[]) => Buffer.from(JSON.stringify({ v: VERSION, n: entries }));

/** One notice per mailbox, the highest modseq (its kind): a batch of commits to one mailbox is one catch-up. */
export function coalesceNotices(notices: Iterable<ChangeNotice>): ChangeNotice[] {
  const latest = new Map<string, ChangeNotice>();
  for (const n of notices) {
    const key = `${n.accountId}#${n.mailboxId}`;
    const seen = latest.get(key);
    if (!seen || seen.modseq < n.modseq) latest.set(key, n);
  }
  return [...latest.values()];
}

/** The notices packed into as few datagrams as fit; a notice too large for one on its own is left out. */
export function encodeNotices(notices: readonly ChangeNotice[]): Buffer[] {
  const datagrams: Buffer[] = [];
  let batch: Wire[] = [];
  for (const notice of notices) {
    const next = [...batch, wire(notice)];
    if (envelope(next).length <= MAX_DATAGRAM_BYTES) {
      batch = next;
      continue;
    }
    if (batch.length > 0) datagrams.push(envelope(batch));
    batch = envelope([wire(notice)]).length <= MAX_DATAGRAM_BYTES ? [wire(notice)] : [];
  }
  if (batch.length > 0) datagrams.push(envelope(batch));
  return datagrams;
}

const isWire = (e: unknown): e is Wire =>
  Array.isArray(e) &&
  e.length === 4 &&
  typeof e[0] === 'string' &&
  e[0] !== '' &&
  typeof e[1] === 'string' &&
  e[1] !== '' &&
  Number.isSafeInteger(e[2]) &&
  e[2] > 0 &&
  KINDS.has(e[3]);

/**
 * The notices in a datagram; anything malformed (another version, garbage, a stray packet) yields none, so a
 * bad sender can cost a task at most the catch-up reads of well-formed notices.
 */
export function decodeNotices(datagram: Buffer): ChangeNotice[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(datagram.toString('utf8'));
  } catch {
    return [];
  }
  const body = parsed as { v?: unknown; n?: unknown };
  if (!body || body.v !== VERSION || !Array.isArray(body.n)) return [];
  return body.n.filter(isWire).map(([accountId, mailboxId, modseq, kind]) => ({ accountId, mailboxId, modseq, kind }));
}
