/**
 * CLOSE (RFC 9051 §6.4.1): silently expunges \Deleted messages of a read-write mailbox, then leaves the
 * selected state; UNSELECT (RFC 3691) leaves it without expunging. Neither sends EXPUNGE responses.
 */
import { tagged } from '../codec/index.ts';
import { command, SELECTED } from './types.ts';

export default command({
  names: ['CLOSE', 'UNSELECT'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    session.selected = undefined;
    session.state = 'authenticated';
    if (cmd.type === 'CLOSE' && !box.readOnly) {
      // The index, not this session's view: another session may have set \Deleted meanwhile.
      const index = await session.backend.mail.listIndex(box.ref);
      const deleted = index.filter((e) => e.flags.includes('\\Deleted')).map((e) => e.uid);
      if (deleted.length > 0) await session.backend.mail.expunge(box.ref, deleted);
    }
    session.send(tagged(cmd.tag, 'OK', `${cmd.type} completed`));
  },
});
