/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258): selection options SUBSCRIBED, REMOTE (there are no
 * remote mailboxes: no effect), RECURSIVEMATCH with CHILDINFO, SPECIAL-USE (RFC 6154 §5.3); several
 * patterns; RETURN (STATUS (...)) (RFC 5819) after each selectable listed mailbox. The RETURN options
 * SUBSCRIBED, CHILDREN and SPECIAL-USE ask for attributes every LIST carries anyway. LSUB (RFC 3501
 * §6.3.9) lists the subscribed names. An empty pattern asks for the delimiter.
 */
import type { ListCommand } from '../codec/index.ts';
import { listResponse, lsubResponse, tagged } from '../codec/index.ts';
import { HIERARCHY_DELIMITER, type ListSelection, listNames, patternMatcher } from '../mailboxes.ts';
import type { ImapSession } from '../session.ts';
import { statusOf } from './status.ts';
import { AUTHENTICATED, command } from './types.ts';

async function list(session: ImapSession, cmd: ListCommand): Promise<void> {
  const opts = session.writeOptions;
  const patterns = cmd.patterns.filter((p) => p !== '');
  if (patterns.length === 0) {
    session.send(listResponse({ attributes: ['\\Noselect'], delimiter: HIERARCHY_DELIMITER, name: '' }, opts));
    return session.send(tagged(cmd.tag, 'OK', 'LIST completed'));
  }
  const mail = session.backend.mail;
  const accountId = session.account!.accountId;
  const selection: ListSelection = cmd.selection;
  const [boxes, dangling] = await Promise.all([
    mail.listMailboxes(accountId),
    selection.subscribed ? mail.listDanglingSubscriptions(accountId) : [],
  ]);
  const matchers = patterns.map((p) => patternMatcher(cmd.reference, p));
  const status = cmd.returns.status;
  for (const entry of listNames(boxes, (n) => matchers.some((m) => m(n)), selection, dangling)) {
    const { name, attributes, childInfo } = entry;
    session.send(listResponse({ attributes, delimiter: HIERARCHY_DELIMITER, name, childInfo }, opts));
    // RFC 5819 §2: a STATUS for each listed mailbox that meets the selection and can be selected.
    if (status && entry.selected && entry.box) session.send(await statusOf(session, entry.box, status));
  }
  session.send(tagged(cmd.tag, 'OK', 'LIST completed'));
}

export default command({
  names: ['LIST', 'LSUB'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    if (cmd.type === 'LIST') return list(session, cmd);
    const opts = session.writeOptions;
    const mail = session.backend.mail;
    const accountId = session.account!.accountId;
    const [boxes, dangling] = await Promise.all([
      mail.listMailboxes(accountId),
      mail.listDanglingSubscriptions(accountId),
    ]);
    const subscribed = { subscribed: true, specialUse: false, recursiveMatch: false };
    for (const entry of listNames(boxes, patternMatcher(cmd.reference, cmd.pattern), subscribed, dangling)) {
      // LSUB (RFC 3501 §6.3.9) lists subscribed names only; its \Noselect would mean "not subscribed itself".
      session.send(lsubResponse({ attributes: [], delimiter: HIERARCHY_DELIMITER, name: entry.name }, opts));
    }
    session.send(tagged(cmd.tag, 'OK', 'LSUB completed'));
  },
});
