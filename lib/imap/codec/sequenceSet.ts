/**
 * Sequence sets (RFC 9051 §9 sequence-set, RFC 5182 `$`): parsing, resolution against a mailbox, and the
 * compact form for responses (`1:3,7,9:12`).
 */

/** A message number or UID; `*` is the largest in use. */
export type SeqNumber = number | '*';

export interface SeqRange {
  readonly start: SeqNumber;
  readonly end: SeqNumber;
}

export type SequenceSet =
  /** `$`: the result saved by the last SEARCH ... RETURN (SAVE) (RFC 5182). */
  { readonly kind: 'saved' } | { readonly kind: 'ranges'; readonly ranges: readonly SeqRange[] };

/** Inclusive [first, last], first <= last. */
export type NumberRange = readonly [number, number];

export const MAX_NZ_NUMBER = 0xffffffff;

const NUMBER = /^[1-9][0-9]{0,9}$/;

function parseSeqNumber(text: string, allowStar: boolean): SeqNumber | null {
  if (text === '*') return allowStar ? '*' : null;
  if (!NUMBER.test(text)) return null;
  const n = Number(text);
  return n <= MAX_NZ_NUMBER ? n : null;
}

export interface SequenceSetSyntax {
  /** Whether `$` is accepted (everywhere but QRESYNC's known UIDs). */
  readonly allowSaved?: boolean;
  /** Whether `*` is accepted (RFC 7162 known-uids forbid it). */
  readonly allowStar?: boolean;
}

/** Parses a sequence set; null when it is not one (`0`, empty elements, garbage). */
export function parseSequenceSet(text: string, syntax: SequenceSetSyntax = {}): SequenceSet | null {
  const allowStar = syntax.allowStar ?? true;
  if (text === '$') return (syntax.allowSaved ?? true) ? { kind: 'saved' } : null;
  if (text === '') return null;
  const ranges: SeqRange[] = [];
  for (const element of text.split(',')) {
    const parts = element.split(':');
    if (parts.length > 2) return null;
    const start = parseSeqNumber(parts[0], allowStar);
    const end = parts.length === 2 ? parseSeqNumber(parts[1], allowStar) : start;
    if (start === null || end === null) return null;
    ranges.push({ start, end });
  }
  return { kind: 'ranges', ranges };
}

/** Sorts and merges ranges (touching ones too). */
export function mergeRanges(ranges: Iterable<NumberRange>): NumberRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [first, last] of sorted) {
    const prev = out[out.length - 1];
    if (prev && first <= prev[1] + 1) prev[1] = Math.max(prev[1], last);
    else out.push([first, last]);
  }
  return out;
}

/** The ranges of a set with `*` standing for `star`, reversed ranges (`5:2`) turned round, unclipped. */
export function normalizeRanges(ranges: readonly SeqRange[], star: number): NumberRange[] {
  return mergeRanges(
    ranges.map(({ start, end }) => {
      const a = start === '*' ? star : start;
      const b = end === '*' ? star : end;
      return a <= b ? [a, b] : [b, a];
    }),
  );
}

export interface ResolveContext {
  /** UIDs (UID commands, UID search key) or message sequence numbers. */
  readonly uid: boolean;
  /** Messages in the selected mailbox. */
  readonly count: number;
  /** The largest UID in the mailbox (0 when it is empty). */
  readonly maxUid: number;
  /** What `$` holds, in the same kind of numbers (the session converts UIDs to numbers for non-UID use). */
  readonly saved?: readonly NumberRange[];
}

export interface ResolvedSet {
  /** Sorted, merged, within 1..count (numbers) or 1..maxUid (UIDs, which may still name no message). */
  readonly ranges: NumberRange[];
  /**
   * A message number past the last message, `*` in an empty mailbox included: RFC 9051 §9 (seq-number)
   * says the server should answer BAD. Never set for UIDs, whose gaps are normal.
   */
  readonly outOfRange: boolean;
}

function clip(ranges: readonly NumberRange[], max: number): NumberRange[] {
  const out: NumberRange[] = [];
  for (const [first, last] of ranges) {
    if (first > max) break;
    out.push([first, Math.min(last, max)]);
  }
  return out;
}

/**
 * Resolves a set against the mailbox. For UIDs `*` is the last message's UID (RFC 9051 §9: in an empty
 * mailbox UIDNEXT, which names no message either), so `UID FETCH 100:*` with UIDs up to 50 is 50:100 and
 * still matches message 50 (RFC 9051 §6.4.8).
 */
export function resolveSequenceSet(set: SequenceSet, ctx: ResolveContext): ResolvedSet {
  const max = ctx.uid ? ctx.maxUid : ctx.count;
  if (set.kind === 'saved') return { ranges: clip(mergeRanges(ctx.saved ?? []), max), outOfRange: false };
  const hasStar = set.ranges.some((r) => r.start === '*' || r.end === '*');
  const ranges = normalizeRanges(set.ranges, ctx.uid ? Math.max(max, 1) : max);
  const top = ranges.length > 0 ? ranges[ranges.length - 1][1] : 0;
  const outOfRange = !ctx.uid && (top > max || (hasStar && max === 0));
  return { ranges: clip(ranges, max).filter(([first]) => first >= 1), outOfRange };
}

/** Whether n is in sorted, merged ranges. */
export function rangesContain(ranges: readonly NumberRange[], n: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = ranges[mid];
    if (n < first) hi = mid - 1;
    else if (n > last) lo = mid + 1;
    else return true;
  }
  return false;
}

export function rangesCount(ranges: readonly NumberRange[]): number {
  return ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0);
}

/** Each number of the ranges, in order. */
export function* rangeNumbers(ranges: readonly NumberRange[]): Generator<number> {
  for (const [first, last] of ranges) for (let n = first; n <= last; n++) yield n;
}

/** The compact wire form of numbers or ranges (sorted and merged first); '' when empty. */
export function formatSequenceSet(values: Iterable<number> | readonly NumberRange[]): string {
  const list = [...values] as (number | NumberRange)[];
  const ranges = mergeRanges(list.map((v): NumberRange => (typeof v === 'number' ? [v, v] : v)));
  return ranges.map(([first, last]) => (first === last ? `${first}` : `${first}:${last}`)).join(',');
}

/** The wire form of a parsed set, as given (for logs and re-sending). */
export function sequenceSetText(set: SequenceSet): string {
  if (set.kind === 'saved') return '$';
  return set.ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}:${r.end}`)).join(',');
}

/**
 * Numbers in the order given, runs of consecutive ascending ones as ranges (`5:7,3`): UIDPLUS pairs the
 * source and destination sets element by element (RFC 4315 §3), so they must not be re-sorted apart.
 */
export function formatUidList(uids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j] + 1) j++;
    parts.push(j === i ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
