/**
 * STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS, .SILENT. The store changes only what
 * really changes (ports.ts updateFlags); every named message then gets its FLAGS unless .SILENT. A message
 * another session expunged is skipped, and without .SILENT the answer is NO [EXPUNGEISSUED] (RFC 2180 §4.2).
 */
import type { FlagOperation } from '../../core/ports.ts';
import { tagged } from '../codec/index.ts';
import type { SelectedMailbox } from '../selected.ts';
import type { ImapSession } from '../session.ts';
import { command, SELECTED } from './types.ts';

const OPERATION: Record<'set' | 'add' | 'remove', FlagOperation> = { set: 'replace', add: 'add', remove: 'remove' };

/** RFC 3501 §9 note 1: keywords compare case-insensitively; one the mailbox knows keeps its spelling. */
function spelled(flags: readonly string[], known: readonly string[]): string[] {
  const byLower = new Map<string, string>();
  for (const k of known) if (!byLower.has(k.toLowerCase())) byLower.set(k.toLowerCase(), k);
  const out = new Map<string, string>();
  for (const f of flags) if (!out.has(f.toLowerCase())) out.set(f.toLowerCase(), byLower.get(f.toLowerCase()) ?? f);
  return [...out.values()];
}

/**
 * RFC 3501 §7.2.6: a keyword new to the mailbox is told in FLAGS (and PERMANENTFLAGS) before a FETCH
 * response carries it, so the client's flag list stays complete.
 */
function announceKeywords(session: ImapSession, box: SelectedMailbox, set: readonly string[]): void {
  const fresh = set.filter((f) => !f.startsWith('\\') && !box.keywords.includes(f));
  if (fresh.length === 0) return;
  for (const line of box.keywordLines([...box.keywords, ...fresh].sort(), session.writeOptions)) session.send(line);
}

export default command({
  names: ['STORE'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    if (box.readOnly) return session.fail(cmd.tag, 'NO', 'mailbox is read-only', { code: 'READ-ONLY' });
    // \Recent is the server's to set (RFC 3501 §2.3.2); it is not kept at all.
    const flags = spelled(
      cmd.flags.filter((f) => f.toLowerCase() !== '\\recent'),
      box.keywords,
    );
    const resolved = box.resolve(cmd.set, cmd.uid);
    if (resolved.outOfRange) return session.fail(cmd.tag, 'BAD', 'no such message');
    // RFC 2180 §4.2: messages another session expunged are left out (their FLAGS cannot be told).
    const uids = resolved.uids.filter((u) => !box.expungedElsewhere(u));
    const gone = resolved.uids.length - uids.length;
    const since = cmd.unchangedSince;
    if (since !== undefined) session.condstore = true;
    const updated = new Set<number>();
    let modified: readonly number[] = [];
    if (uids.length > 0) {
      const opts = since === undefined ? {} : { unchangedSince: Number(since) };
      const result = await session.backend.mail.updateFlags(box.ref, uids, OPERATION[cmd.action], flags, opts);
      for (const u of result.updated) {
        box.setFlags(u.uid, u.flags, u.modseq);
        updated.add(u.uid);
      }
      modified = result.modified;
      if (cmd.action !== 'remove' && result.updated.length > 0) announceKeywords(session, box, flags);
    }
    const failed = new Set(modified);
    for (const uid of uids) {
      if (failed.has(uid)) continue;
      // RFC 7162 §3.1.3: with UNCHANGEDSINCE, the messages changed are told even when .SILENT.
      if (cmd.silent && !(since !== undefined && updated.has(uid))) continue;
      session.send(session.flagsResponse(box.seqOf(uid), uid, cmd.uid));
    }
    if (modified.length > 0) {
      const set = cmd.uid ? modified : modified.map((u) => box.seqOf(u));
      return session.send(tagged(cmd.tag, 'OK', 'conditional STORE failed for some', { code: 'MODIFIED', set }));
    }
    // RFC 2180 §4.2.1: .SILENT that stored every other message is OK; §4.2.2/4.2.3: otherwise a tagged NO
    // (the others stored and told), RFC 5530 EXPUNGEISSUED saying why.
    if (gone > 0 && !cmd.silent) {
      return session.refuse(cmd.tag, `${gone} of the messages were expunged`, { code: 'EXPUNGEISSUED' });
    }
    session.send(tagged(cmd.tag, 'OK', `${cmd.uid ? 'UID STORE' : 'STORE'} completed`));
  },
});
