/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4): flags, keywords, UID and sequence sets (`$` too), sizes,
 * internal and sent dates, the header keys the stored summary keeps, BODY and TEXT (searchText.ts: only
 * for the messages the other keys leave open, a few at a time), combined with NOT and OR.
 *
 * The answer is `* SEARCH`, or `* ESEARCH` (RFC 4731 §3.1) with RETURN (MIN MAX ALL COUNT) and always
 * under IMAP4rev2 (RFC 9051 §7.3.4: no `* SEARCH` there). RETURN (SAVE) keeps the result for `$` (RFC 5182
 * §2.1, the reduction of §2.4); a SAVE search answered NO leaves it empty.
 */
import type { MessageMeta } from '../../core/ports.ts';
import { MessageGoneError } from '../backend.ts';
import {
  type CommandEvent,
  esearchResponse,
  type ResponseCode,
  SEARCH_CHARSETS,
  type SearchCommand,
  type SearchKey,
  type SearchReturn,
  searchResponse,
  type Token,
  tagged,
} from '../codec/index.ts';
import {
  matchesAll,
  needsMeta,
  type SearchContext,
  type SearchSubject,
  textKeys,
  unsupportedKey,
  usesModseq,
} from '../searchEval.ts';
import { searchText } from '../searchText.ts';
import type { ImapSession } from '../session.ts';
import { command, SELECTED } from './types.ts';

/** Messages read from the index per storage call. */
const BATCH = 100;
/** Messages whose bodies are read at once for BODY and TEXT. */
const BODY_CONCURRENCY = 4;
/** What IMAP4rev2 answers a SEARCH without RETURN with (RFC 9051 §6.4.4). */
const RETURN_ALL: SearchReturn = { min: false, max: false, all: true, count: false, save: false };

interface Found {
  readonly seq: number;
  readonly uid: number;
  readonly modseq: number;
}

/** Runs `work` on each item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The messages that match, in sequence order: index keys first, then the bodies of those still open. */
async function findMatches(session: ImapSession, cmd: SearchCommand): Promise<Found[]> {
  const box = session.selected!;
  // a set resolves once per command, not once per message (`$` is a walk over the saved UIDs)
  const resolved = new Map<SearchKey, ReturnType<SearchContext['ranges']>>();
  const ctx: SearchContext = {
    ranges(key) {
      const known = resolved.get(key);
      if (known) return known;
      const r = box.ranges(key.set, key.type === 'UID');
      resolved.set(key, r);
      return r;
    },
  };
  const uids = box.allUids().slice();
  const withMeta = needsMeta(cmd.criteria);
  const texts = textKeys(cmd.criteria);
  const found: Found[] = [];
  for (let i = 0; i < uids.length; i += BATCH) {
    const chunk = uids.slice(i, i + BATCH);
    const metas: MessageMeta[] = withMeta ? await session.backend.mail.getMessages(box.ref, chunk) : [];
    const byUid = new Map(metas.map((m) => [m.uid, m] as const));
    const subjects: SearchSubject[] = chunk.flatMap((uid, j) => {
      const meta = byUid.get(uid);
      // RFC 2180 §4.3: a message another session expunged (still shown) is not found, as in Dovecot
      if (box.expungedElsewhere(uid) || (withMeta && !meta)) return [];
      return [{ seq: i + j + 1, uid, flags: box.flagsOf(uid), modseq: box.modseqOf(uid), meta }];
    });
    const verdicts = subjects.map((s) => matchesAll(cmd.criteria, s, ctx));
    const open = subjects.flatMap((s, j) => (verdicts[j] === undefined && s.meta ? [j] : []));
    await eachLimited(open, BODY_CONCURRENCY, async (j) => {
      const s = subjects[j];
      const text = await searchText(session.backend, s.meta!, texts).catch((e: unknown) => {
        // octets gone (the message expunged and its blob deleted meanwhile): it matches nothing
        if (!(e instanceof MessageGoneError)) throw e;
        session.log.warn('imap search: message octets missing', { uid: s.uid });
        return undefined;
      });
      verdicts[j] = matchesAll(cmd.criteria, { ...s, text }, ctx);
    });
    subjects.forEach((s, j) => {
      if (verdicts[j] === true) found.push({ seq: s.seq, uid: s.uid, modseq: s.modseq });
    });
  }
  return found;
}

/**
 * The messages a RETURN stands for when only MIN and/or MAX were asked: what SAVE keeps (RFC 5182 §2.4)
 * and what MODSEQ covers (RFC 7162 §3.1.5); otherwise all that were found.
 */
function returned(found: readonly Found[], r: SearchReturn): readonly Found[] {
  if (r.all || r.count || (!r.min && !r.max) || found.length === 0) return found;
  const ends = [...(r.min ? [found[0]] : []), ...(r.max ? [found[found.length - 1]] : [])];
  return [...new Set(ends)];
}

const highest = (found: readonly Found[]): bigint => BigInt(found.reduce((top, f) => Math.max(top, f.modseq), 0));

function answer(session: ImapSession, cmd: SearchCommand, found: readonly Found[]): void {
  const number = (f: Found) => (cmd.uid ? f.uid : f.seq);
  const byModseq = usesModseq(cmd.criteria);
  const r = cmd.returns ?? (session.imap4rev2 ? RETURN_ALL : undefined);
  if (!r) {
    // RFC 7162 §3.1.5: a search with MODSEQ tells the highest mod-sequence of what it found.
    session.send(searchResponse(found.map(number), byModseq ? highest(found) : undefined));
    return;
  }
  const kept = returned(found, r);
  if (r.save) session.selected!.savedSearch = kept.map((f) => f.uid);
  // RFC 5182 §2.2: SAVE alone answers with no ESEARCH at all.
  if (!r.min && !r.max && !r.all && !r.count) return;
  const some = found.length > 0;
  session.send(
    esearchResponse(
      {
        tag: cmd.tag,
        uid: cmd.uid,
        // RFC 4731 §3.1: no MIN, MAX or ALL when nothing matched; COUNT 0 still
        ...(r.min && some ? { min: number(found[0]) } : {}),
        ...(r.max && some ? { max: number(found[found.length - 1]) } : {}),
        ...(r.count ? { count: found.length } : {}),
        ...(r.all ? { all: found.map(number) } : {}),
        ...(byModseq && some ? { modSeq: highest(kept) } : {}),
      },
      session.writeOptions,
    ),
  );
}

/** Why this server will not run the search, if it will not. */
function refusal(cmd: SearchCommand): { text: string; code: ResponseCode } | undefined {
  // RFC 9051 §6.4.4: an unsupported charset is NO [BADCHARSET], listing the supported ones
  if (cmd.charset && !SEARCH_CHARSETS.includes(cmd.charset)) {
    return { text: 'unsupported charset', code: { code: 'BADCHARSET', charsets: SEARCH_CHARSETS } };
  }
  const unsupported = unsupportedKey(cmd.criteria);
  if (unsupported) return { text: `SEARCH ${unsupported} is not supported`, code: { code: 'CANNOT' } };
  return undefined;
}

const isAtom = (t: Token | undefined, value: string): boolean => t?.type === 'atom' && t.value.toUpperCase() === value;

/**
 * Whether a command the parser refused is a SEARCH ... RETURN (... SAVE ...): RFC 5182 §2.1 has a SAVE
 * search answered NO empty the search result variable, an unknown CHARSET (refused while parsing) too.
 */
export function isSaveSearch(ev: CommandEvent): boolean {
  const uid = ev.name === 'UID' && isAtom(ev.args[0], 'SEARCH');
  if (ev.name !== 'SEARCH' && !uid) return false;
  const [keyword, options] = uid ? ev.args.slice(1) : ev.args;
  return isAtom(keyword, 'RETURN') && options?.type === 'list' && options.items.some((t) => isAtom(t, 'SAVE'));
}

export default command({
  names: ['SEARCH'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    // RFC 6855 §3: after ENABLE UTF8=ACCEPT strings are UTF-8, and a CHARSET label conflicts with that.
    if (cmd.charset && session.utf8Accept) return session.fail(cmd.tag, 'BAD', 'no CHARSET after UTF8=ACCEPT');
    // RFC 5182 §2.1: a SEARCH with SAVE that is answered NO empties the search result variable.
    const failed = () => {
      if (cmd.returns?.save) box.savedSearch = [];
    };
    const refused = refusal(cmd);
    if (refused) {
      failed();
      return session.fail(cmd.tag, 'NO', refused.text, refused.code);
    }
    if (usesModseq(cmd.criteria)) session.condstore = true;
    let found: Found[];
    try {
      found = await findMatches(session, cmd);
    } catch (e) {
      failed();
      throw e;
    }
    answer(session, cmd, found);
    session.send(tagged(cmd.tag, 'OK', `${cmd.uid ? 'UID SEARCH' : 'SEARCH'} completed`));
  },
});
