/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): the mailbox's FLAGS, EXISTS, UIDVALIDITY, UIDNEXT,
 * PERMANENTFLAGS (none for EXAMINE) and READ-WRITE / READ-ONLY. A failed SELECT leaves no mailbox selected.
 * With `(QRESYNC (uidvalidity modseq [known-uids [seq-match]]))` (RFC 7162 §3.2.5), once ENABLE QRESYNC was
 * given, the client also hears what it missed: `* VANISHED (EARLIER)`, then a FETCH of each changed message.
 */
import {
  exists,
  flags,
  type NumberRange,
  type QresyncParams,
  rangesContain,
  recent,
  tagged,
  untagged,
  vanished,
} from '../codec/index.ts';
import { matchedUid, modseqNumber, seqMatchPairs, vanishedSince } from '../qresync.ts';
import { SelectedMailbox } from '../selected.ts';
import type { ImapSession } from '../session.ts';
import { AUTHENTICATED, command } from './types.ts';

const EVERY_UID = { kind: 'ranges', ranges: [{ start: 1, end: '*' }] } as const;

/**
 * RFC 7162 §3.2.5.1: what changed since the client's modseq, as `UID FETCH known-uids (FLAGS) (CHANGEDSINCE
 * modseq VANISHED)` would tell it; seq-match-data narrows the expunges to UIDs above its last matching pair.
 * Nothing when UIDVALIDITY differs: the client's UIDs mean nothing here and it must start over.
 */
async function resync(session: ImapSession, box: SelectedMailbox, params: QresyncParams): Promise<void> {
  if (params.uidValidity !== box.uidValidity) return;
  const since = modseqNumber(params.modSeq);
  const known = box.uidRanges(params.knownUids ?? EVERY_UID);
  const matched = params.seqMatch ? matchedUid(box, params.seqMatch) : 0;
  const unmatched = known
    .filter(([, last]) => last > matched)
    .map(([first, last]): NumberRange => [Math.max(first, matched + 1), last]);
  session.send(vanished(await vanishedSince(session.backend.mail, box, since, unmatched), true));
  for (const uid of box.allUids()) {
    if (box.modseqOf(uid) > since && rangesContain(known, uid)) {
      session.send(session.flagsResponse(box.seqOf(uid), uid, true));
    }
  }
}

export default command({
  names: ['SELECT', 'EXAMINE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const mail = session.backend.mail;
    const qresync = cmd.qresync;
    // RFC 7162 §3.2.5: the QRESYNC parameter without ENABLE QRESYNC first is BAD.
    if (qresync && !session.qresync) return session.fail(cmd.tag, 'BAD', 'QRESYNC needs ENABLE QRESYNC first');
    if (qresync?.seqMatch && !seqMatchPairs(qresync.seqMatch)) {
      return session.fail(cmd.tag, 'BAD', 'QRESYNC known sequence set and UID set differ in size');
    }
    if (session.selected) {
      session.selected = undefined;
      session.state = 'authenticated';
      // RFC 7162 §3.2.11 / RFC 9051 §6.3.2: the previous mailbox is closed.
      session.send(untagged('OK', 'previous mailbox closed', { code: 'CLOSED' }));
    }
    const state = await mail.getMailbox(session.account!.accountId, cmd.mailbox);
    if (!state) return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    const readOnly = cmd.type === 'EXAMINE';
    const box = await SelectedMailbox.open(mail, state, readOnly);
    const opts = session.writeOptions;
    session.send(flags(box.flagNames, opts));
    session.send(exists(box.count));
    session.send(recent(0));
    session.send(untagged('OK', 'UIDs valid', { code: 'UIDVALIDITY', value: box.uidValidity }));
    session.send(untagged('OK', 'predicted next UID', { code: 'UIDNEXT', value: box.nextUid }));
    // RFC 7162 §3.1.2.1: a CONDSTORE server tells every SELECT the mailbox's HIGHESTMODSEQ.
    session.send(untagged('OK', 'highest modseq', { code: 'HIGHESTMODSEQ', value: BigInt(box.modseq) }));
    if (cmd.condstore) session.condstore = true;
    session.send(
      untagged('OK', readOnly ? 'no permanent flags' : 'flags kept', {
        code: 'PERMANENTFLAGS',
        flags: readOnly ? [] : [...box.flagNames, '\\*'],
      }),
    );
    session.selected = box;
    session.state = 'selected';
    if (qresync) await resync(session, box, qresync);
    const done = readOnly ? 'EXAMINE completed' : 'SELECT completed';
    session.send(tagged(cmd.tag, 'OK', done, { code: readOnly ? 'READ-ONLY' : 'READ-WRITE' }));
  },
});
