/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): removes the messages marked \Deleted (only
 * those of the UID set for UID EXPUNGE) and tells each removal as `* n EXPUNGE`, or, once QRESYNC is on, all
 * of them as one `* VANISHED uid-set` with the new HIGHESTMODSEQ on the tagged OK (RFC 7162 §3.2.7, §3.2.9).
 */
import { rangesContain, tagged } from '../codec/index.ts';
import { tellExpunged } from '../qresync.ts';
import { command, SELECTED } from './types.ts';

export default command({
  names: ['EXPUNGE'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    if (box.readOnly) return session.fail(cmd.tag, 'NO', 'mailbox is read-only', { code: 'READ-ONLY' });
    const index = await session.backend.mail.listIndex(box.ref);
    const only = cmd.uids && box.ranges(cmd.uids, true);
    const deleted = index
      .filter((e) => e.flags.includes('\\Deleted') && box.seqOf(e.uid) > 0)
      .filter((e) => !only || rangesContain(only, e.uid))
      .map((e) => e.uid);
    const removed = deleted.length > 0 ? await session.backend.mail.expunge(box.ref, deleted) : [];
    tellExpunged(session, removed);
    const done = `${cmd.uids ? 'UID EXPUNGE' : 'EXPUNGE'} completed`;
    if (!session.qresync || removed.length === 0) return session.send(tagged(cmd.tag, 'OK', done));
    // Caught up first, so the HIGHESTMODSEQ told covers nothing this session has not heard (RFC 7162 §3.2).
    await session.tellChanges(true);
    session.send(tagged(cmd.tag, 'OK', done, { code: 'HIGHESTMODSEQ', value: BigInt(box.modseq) }));
  },
});
