/** The DSN parameters of a transaction (RFC 3461 §4), as smtp-server parsed them. */
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { DsnNotify, MessageDsn, RecipientDsn } from '../core/outbound.ts';

/** NOTIFY and ORCPT of RCPT TO; NOTIFY=NEVER is the empty list. */
export function recipientDsn(address: SMTPServerAddress): RecipientDsn {
  const dsn = (address as { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
  if (!dsn) return {};
  const notify = dsn.notify?.filter((n): n is DsnNotify => n === 'SUCCESS' || n === 'FAILURE' || n === 'DELAY');
  return { ...(dsn.notify ? { notify } : {}), ...(dsn.orcpt ? { orcpt: dsn.orcpt } : {}) };
}

/** RET and ENVID of MAIL FROM. */
export function messageDsn(session: SMTPServerSession): MessageDsn {
  const dsn = session.envelope.dsn;
  return {
    ret: dsn?.ret === 'FULL' || dsn?.ret === 'HDRS' ? dsn.ret : undefined,
    envId: dsn?.envid || undefined,
  };
}
