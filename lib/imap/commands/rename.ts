/**
 * RENAME (RFC 9051 §6.3.6): inferior names follow; renaming INBOX moves its messages (the store does it).
 * The target's missing superiors are created (RFC 3501 §6.3.5 SHOULD); `*` and `%` are NO [CANNOT] (§5.1).
 * Under IMAP4rev2 a new name given in another form than the stored one is told with OLDNAME (§6.3.6).
 */
import { listResponse, tagged } from '../codec/index.ts';
import { createSuperiors, hasListWildcard, oldNameEntry } from '../mailboxes.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['RENAME'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const accountId = session.account!.accountId;
    const mail = session.backend.mail;
    if (!(await mail.getMailbox(accountId, cmd.from))) {
      return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    }
    if (hasListWildcard(cmd.to)) return session.fail(cmd.tag, 'NO', 'no * or % in mailbox names', { code: 'CANNOT' });
    if (await mail.getMailbox(accountId, cmd.to)) {
      return session.fail(cmd.tag, 'NO', 'target mailbox exists', { code: 'ALREADYEXISTS' });
    }
    await createSuperiors(mail, accountId, cmd.to);
    await mail.renameMailbox(accountId, cmd.from, cmd.to);
    const renamed = session.imap4rev2 ? oldNameEntry(cmd.to) : undefined;
    if (renamed) session.send(listResponse(renamed, session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'RENAME completed'));
  },
});
