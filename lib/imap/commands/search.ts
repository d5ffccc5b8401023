/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4), answered with `* SEARCH` (ESEARCH's RETURN is not offered):
 * flags, keywords, UID and sequence sets, sizes, internal and sent dates, and the header keys the stored
 * summary keeps, combined with NOT and OR. BODY and TEXT would read every body and are refused.
 */
import type { MessageMeta } from '../../core/ports.ts';
import { resolveSequenceSet, searchResponse, tagged } from '../codec/index.ts';
import { matches, needsMeta, type SearchContext, unsupportedKey, usesModseq } from '../searchEval.ts';
import { command, SELECTED } from './types.ts';

const BATCH = 100;
const CHARSETS = new Set(['US-ASCII', 'UTF-8']);

export default command({
  names: ['SEARCH'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    // RFC 6855 §3: after ENABLE UTF8=ACCEPT strings are UTF-8, and a CHARSET label conflicts with that.
    if (cmd.charset && session.utf8Accept) return session.fail(cmd.tag, 'BAD', 'no CHARSET after UTF8=ACCEPT');
    if (cmd.charset && !CHARSETS.has(cmd.charset)) {
      return session.fail(cmd.tag, 'NO', 'unsupported charset', { code: 'BADCHARSET', charsets: [...CHARSETS] });
    }
    if (cmd.returns) return session.fail(cmd.tag, 'BAD', 'SEARCH RETURN is not supported');
    const unsupported = unsupportedKey(cmd.criteria);
    if (unsupported) return session.fail(cmd.tag, 'NO', `SEARCH ${unsupported} is not supported`, { code: 'CANNOT' });
    const ctx: SearchContext = {
      ranges: (key) =>
        resolveSequenceSet(key.set, { uid: key.type === 'UID', count: box.count, maxUid: box.maxUid }).ranges,
    };
    const uids = box.allUids();
    const withMeta = needsMeta(cmd.criteria);
    const found: number[] = [];
    let highest = 0;
    const byModseq = usesModseq(cmd.criteria);
    if (byModseq) session.condstore = true;
    for (let i = 0; i < uids.length; i += BATCH) {
      const chunk = uids.slice(i, i + BATCH);
      const metas: MessageMeta[] = withMeta ? await session.backend.mail.getMessages(box.ref, chunk) : [];
      const byUid = new Map(metas.map((m) => [m.uid, m] as const));
      chunk.forEach((uid, j) => {
        const subject = {
          seq: i + j + 1,
          uid,
          flags: box.flagsOf(uid),
          modseq: box.modseqOf(uid),
          meta: byUid.get(uid),
        };
        if (!cmd.criteria.every((k) => matches(k, subject, ctx))) return;
        found.push(cmd.uid ? uid : subject.seq);
        highest = Math.max(highest, subject.modseq);
      });
    }
    // RFC 7162 §3.1.5: a search with MODSEQ tells the highest mod-sequence of what it found.
    session.send(searchResponse(found, byModseq ? BigInt(highest) : undefined));
    session.send(tagged(cmd.tag, 'OK', `${cmd.uid ? 'UID SEARCH' : 'SEARCH'} completed`));
  },
});
