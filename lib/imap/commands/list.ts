/**
 * LIST (RFC 9051 §6.3.9) and LSUB (RFC 3501 §6.3.9): names with \HasChildren / \HasNoChildren, \Subscribed
 * and the RFC 6154 special-use attributes. An empty pattern asks for the delimiter.
 */
import { listResponse, lsubResponse, tagged } from '../codec/index.ts';
import { HIERARCHY_DELIMITER, listNames, patternMatcher } from '../mailboxes.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['LIST', 'LSUB'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const opts = session.writeOptions;
    const patterns = cmd.type === 'LIST' ? cmd.patterns : [cmd.pattern];
    if (cmd.type === 'LIST' && patterns.length === 1 && patterns[0] === '') {
      session.send(listResponse({ attributes: ['\\Noselect'], delimiter: HIERARCHY_DELIMITER, name: '' }, opts));
      return session.send(tagged(cmd.tag, 'OK', 'LIST completed'));
    }
    const boxes = await session.backend.mail.listMailboxes(session.account!.accountId);
    const matchers = patterns.map((p) => patternMatcher(cmd.reference, p));
    const subscribedOnly = cmd.type === 'LSUB' || cmd.selection.subscribed;
    const write = cmd.type === 'LSUB' ? lsubResponse : listResponse;
    for (const entry of listNames(boxes, (n) => matchers.some((m) => m(n)), { subscribedOnly })) {
      // LSUB (RFC 3501) has no \HasChildren; a subscribed parent without a mailbox is \Noselect.
      const attributes = cmd.type === 'LSUB' ? entry.attributes.filter((a) => a === '\\Noselect') : entry.attributes;
      session.send(write({ attributes, delimiter: HIERARCHY_DELIMITER, name: entry.name }, opts));
    }
    session.send(tagged(cmd.tag, 'OK', `${cmd.type} completed`));
  },
});
