/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): the mailbox's FLAGS, EXISTS, UIDVALIDITY, UIDNEXT,
 * PERMANENTFLAGS (none for EXAMINE) and READ-WRITE / READ-ONLY. A failed SELECT leaves no mailbox selected.
 * With `(QRESYNC (uidvalidity modseq [known-uids [seq-match]]))` (RFC 7162 §3.2.5), once ENABLE QRESYNC was
 * given, the client also hears what it missed: `* VANISHED (EARLIER)`, then a FETCH of each changed message.
 * IMAP4rev1 (RFC 3501 §6.3.1) adds RECENT and UNSEEN; IMAP4rev2 drops them and adds the mailbox's LIST.
 */
import {
  exists,
  listResponse,
  type NumberRange,
  type QresyncParams,
  rangesContain,
  recent,
  tagged,
  untagged,
  vanished,
} from '../codec/index.ts';
import { HIERARCHY_DELIMITER, listNames } from '../mailboxes.ts';
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

/**
 * RFC 9051 §6.3.2: `* LIST (attributes) "/" name` for the selected mailbox, attributes as LIST gives them,
 * and OLDNAME with the name as given when the store knows it in another (NFC) form (§6.3.9.7).
 */
async function listOf(session: ImapSession, name: string, given: string): Promise<Buffer> {
  const boxes = await session.backend.mail.listMailboxes(session.account!.accountId);
  const [entry] = listNames(boxes, (n) => n === name);
  const attributes = entry?.attributes ?? [];
  const oldName = given === name ? {} : { oldName: given };
  return listResponse({ attributes, delimiter: HIERARCHY_DELIMITER, name, ...oldName }, session.writeOptions);
}

/** RFC 3501 §6.3.1: `* OK [UNSEEN n]`, the first message without \Seen, when there is one. */
function firstUnseen(box: SelectedMailbox): Buffer {
  const i = box.allUids().findIndex((uid) => !box.flagsOf(uid).includes('\\Seen'));
  if (i < 0) return Buffer.alloc(0);
  return untagged('OK', `message ${i + 1} is first unseen`, { code: 'UNSEEN', value: i + 1 });
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
    session.send(box.flagsLine(opts));
    session.send(exists(box.count));
    if (session.imap4rev2) {
      // RFC 9051 Appendix E items 10-12: a LIST response; no RECENT (\Recent is gone) and no UNSEEN.
      session.send(await listOf(session, state.name, cmd.mailbox));
    } else {
      session.send(recent(0));
      session.send(firstUnseen(box));
    }
    session.send(untagged('OK', 'UIDs valid', { code: 'UIDVALIDITY', value: box.uidValidity }));
    session.send(untagged('OK', 'predicted next UID', { code: 'UIDNEXT', value: box.nextUid }));
    // RFC 7162 §3.1.2.1: a CONDSTORE server tells every SELECT the mailbox's HIGHESTMODSEQ.
    session.send(untagged('OK', 'highest modseq', { code: 'HIGHESTMODSEQ', value: BigInt(box.modseq) }));
    // RFC 8474 §4.2: the mailbox's id, stable across RENAME.
    session.send(untagged('OK', 'mailbox id', { code: 'MAILBOXID', id: state.mailboxId }));
    if (cmd.condstore) session.condstore = true;
    session.send(box.permanentFlagsLine());
    session.selected = box;
    session.state = 'selected';
    if (qresync) await resync(session, box, qresync);
    const done = readOnly ? 'EXAMINE completed' : 'SELECT completed';
    session.send(tagged(cmd.tag, 'OK', done, { code: readOnly ? 'READ-ONLY' : 'READ-WRITE' }));
  },
});
