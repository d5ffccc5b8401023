/**
 * SETQUOTA (RFC 9208 §4.1.3): limits are the administrator's (the directory's quota), so a user's SETQUOTA
 * is refused with NO, as §4.1.3 allows; an unknown root is NONEXISTENT.
 */

import { QUOTA_ROOT } from './getquota.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['SETQUOTA'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    if (cmd.root !== QUOTA_ROOT || session.account!.quotaBytes <= 0) {
      return session.fail(cmd.tag, 'NO', 'no such quota root', { code: 'NONEXISTENT' });
    }
    session.refuse(cmd.tag, 'quotas are set by the administrator', { code: 'NOPERM' });
  },
});
