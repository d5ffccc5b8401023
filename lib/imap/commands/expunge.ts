/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): removes the messages marked \Deleted (only
 * those of the UID set for UID EXPUNGE) and tells each removal as `* n EXPUNGE`.
 */
import { expunge, rangesContain, tagged } from '../codec/index.ts';
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
    for (const seq of box.removeExpunged(removed)) session.send(expunge(seq));
    session.send(tagged(cmd.tag, 'OK', `${cmd.uids ? 'UID EXPUNGE' : 'EXPUNGE'} completed`));
  },
});
