/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3): the mailbox's FLAGS, EXISTS, UIDVALIDITY, UIDNEXT,
 * PERMANENTFLAGS (none for EXAMINE) and READ-WRITE / READ-ONLY. A failed SELECT leaves no mailbox selected.
 */
import { exists, flags, recent, tagged, untagged } from '../codec/index.ts';
import { SelectedMailbox } from '../selected.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['SELECT', 'EXAMINE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const mail = session.backend.mail;
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
    // RFC 8474 §4.2: the mailbox's id, stable across RENAME.
    session.send(untagged('OK', 'mailbox id', { code: 'MAILBOXID', id: state.mailboxId }));
    if (cmd.condstore) session.condstore = true;
    session.send(
      untagged('OK', readOnly ? 'no permanent flags' : 'flags kept', {
        code: 'PERMANENTFLAGS',
        flags: readOnly ? [] : [...box.flagNames, '\\*'],
      }),
    );
    session.selected = box;
    session.state = 'selected';
    const done = readOnly ? 'EXAMINE completed' : 'SELECT completed';
    session.send(tagged(cmd.tag, 'OK', done, { code: readOnly ? 'READ-ONLY' : 'READ-WRITE' }));
  },
});
