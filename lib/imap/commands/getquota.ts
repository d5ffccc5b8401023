/**
 * GETQUOTAROOT and GETQUOTA (RFC 9208 §4.1.2, §4.1.1): every mailbox of an account shares one quota root, "",
 * with the STORAGE resource (KiB, §5.1) from the account's quota and its usage. An account without a limit
 * has no quota root: GETQUOTAROOT names none and GETQUOTA "" is NO.
 */
import type { Account } from '../../core/ports.ts';
import { quotaResponse, quotaRootResponse, tagged } from '../codec/index.ts';
import type { ImapSession } from '../session.ts';
import { kibibytes } from './status.ts';
import { AUTHENTICATED, command } from './types.ts';

/** The one quota root (RFC 9208 §3: the root name is the server's to choose). */
export const QUOTA_ROOT = '';

const rootsOf = (account: Account): string[] => (account.quotaBytes > 0 ? [QUOTA_ROOT] : []);

async function sendQuota(session: ImapSession, account: Account): Promise<void> {
  const usage = await session.backend.mail.getUsage(account.accountId);
  const storage = { name: 'STORAGE', usage: kibibytes(usage.bytes), limit: Math.floor(account.quotaBytes / 1024) };
  session.send(quotaResponse(QUOTA_ROOT, [storage], session.writeOptions));
}

export default command({
  names: ['GETQUOTAROOT', 'GETQUOTA'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const account = session.account!;
    const roots = rootsOf(account);
    if (cmd.type === 'GETQUOTA') {
      if (!roots.includes(cmd.root)) return session.fail(cmd.tag, 'NO', 'no such quota root', { code: 'NONEXISTENT' });
      await sendQuota(session, account);
      return session.send(tagged(cmd.tag, 'OK', 'GETQUOTA completed'));
    }
    if (!(await session.backend.mail.getMailbox(account.accountId, cmd.mailbox))) {
      return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'NONEXISTENT' });
    }
    session.send(quotaRootResponse(cmd.mailbox, roots, session.writeOptions));
    if (roots.length > 0) await sendQuota(session, account);
    session.send(tagged(cmd.tag, 'OK', 'GETQUOTAROOT completed'));
  },
});
