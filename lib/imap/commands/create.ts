/**
 * CREATE (RFC 9051 §6.3.4), with CREATE-SPECIAL-USE (RFC 6154 §3: `(USE (\Drafts))`, one attribute; the
 * virtual `\All` and `\Flagged` are not kept here, so they get NO [USEATTR] and nothing is created). The OK
 * carries the new mailbox's id (RFC 8474 §4.1). A trailing delimiter is dropped; missing superiors are
 * created too (RFC 3501 §6.3.3 SHOULD); `*` and `%` are NO [CANNOT] (RFC 3501 §5.1).
 */
import { listResponse, tagged } from '../codec/index.ts';
import { createSuperiors, HIERARCHY_DELIMITER, hasListWildcard, oldNameEntry } from '../mailboxes.ts';
import { AUTHENTICATED, command } from './types.ts';

/** The RFC 6154 uses a mailbox here can have: real mailboxes, not virtual views. */
const CREATABLE_USES = new Set(['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash']);

export default command({
  names: ['CREATE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const name = cmd.mailbox.endsWith(HIERARCHY_DELIMITER) ? cmd.mailbox.slice(0, -1) : cmd.mailbox;
    if (name === 'INBOX') return session.fail(cmd.tag, 'NO', 'INBOX always exists', { code: 'ALREADYEXISTS' });
    if (cmd.specialUse.length > 1) return session.fail(cmd.tag, 'NO', 'one special use at most', { code: 'USEATTR' });
    const use = cmd.specialUse[0];
    if (use && !CREATABLE_USES.has(use)) {
      return session.fail(cmd.tag, 'NO', `${use} is not supported`, { code: 'USEATTR' });
    }
    if (hasListWildcard(name)) return session.fail(cmd.tag, 'NO', 'no * or % in mailbox names', { code: 'CANNOT' });
    const accountId = session.account!.accountId;
    const mail = session.backend.mail;
    if (await mail.getMailbox(accountId, name)) {
      return session.fail(cmd.tag, 'NO', 'mailbox exists', { code: 'ALREADYEXISTS' });
    }
    await createSuperiors(mail, accountId, name);
    const box = await mail.createMailbox(accountId, name, { specialUse: use, subscribed: false });
    // RFC 9051 §6.3.4: a name stored in another form (NFC, §5.1) is told with OLDNAME (LIST syntax of rev2)
    const renamed = session.imap4rev2 ? oldNameEntry(name) : undefined;
    if (renamed) session.send(listResponse(renamed, session.writeOptions));
    session.send(tagged(cmd.tag, 'OK', 'CREATE completed', { code: 'MAILBOXID', id: box.mailboxId }));
  },
});
