/**
 * STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS, -FLAGS, .SILENT. The store changes only what
 * really changes (ports.ts updateFlags); every named message then gets its FLAGS unless .SILENT.
 */
import type { FlagOperation } from '../../core/ports.ts';
import { fetchResponseBuffer, tagged } from '../codec/index.ts';
import { command, SELECTED } from './types.ts';

const OPERATION: Record<'set' | 'add' | 'remove', FlagOperation> = { set: 'replace', add: 'add', remove: 'remove' };

export default command({
  names: ['STORE'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    if (box.readOnly) return session.fail(cmd.tag, 'NO', 'mailbox is read-only', { code: 'READ-ONLY' });
    if (cmd.unchangedSince !== undefined) return session.fail(cmd.tag, 'BAD', 'UNCHANGEDSINCE is not supported');
    // \Recent is the server's to set (RFC 3501 §2.3.2); it is not kept at all.
    const flags = cmd.flags.filter((f) => f.toLowerCase() !== '\\recent');
    const { uids, outOfRange } = box.resolve(cmd.set, cmd.uid);
    if (outOfRange) return session.fail(cmd.tag, 'BAD', 'no such message');
    if (uids.length > 0) {
      const result = await session.backend.mail.updateFlags(box.ref, uids, OPERATION[cmd.action], flags);
      for (const u of result.updated) box.setFlags(u.uid, u.flags);
    }
    if (!cmd.silent) {
      for (const uid of uids) {
        const items = [
          { item: 'FLAGS' as const, flags: box.flagsOf(uid) },
          ...(cmd.uid ? [{ item: 'UID' as const, uid }] : []),
        ];
        session.send(fetchResponseBuffer(box.seqOf(uid), items, session.writeOptions));
      }
    }
    session.send(tagged(cmd.tag, 'OK', `${cmd.uid ? 'UID STORE' : 'STORE'} completed`));
  },
});
