/**
 * Response codes (RFC 9051 §7.1 resp-text-code and the extensions: RFC 4315 UIDPLUS, RFC 5530, RFC 7162
 * CONDSTORE/QRESYNC, RFC 8474 OBJECTID, RFC 3516, RFC 4469 TOOBIG, RFC 5182, RFC 6154).
 */
import { formatSequenceSet, formatUidList, type NumberRange } from './sequenceSet.ts';

export type SimpleResponseCode =
  | 'ALERT'
  | 'PARSE'
  | 'READ-ONLY'
  | 'READ-WRITE'
  | 'TRYCREATE'
  | 'NOMODSEQ'
  | 'CLOSED'
  | 'UIDNOTSTICKY'
  | 'NOTSAVED'
  | 'HASCHILDREN'
  | 'TOOBIG'
  | 'UNKNOWN-CTE'
  | 'USEATTR'
  | 'UNAVAILABLE'
  | 'AUTHENTICATIONFAILED'
  | 'AUTHORIZATIONFAILED'
  | 'EXPIRED'
  | 'PRIVACYREQUIRED'
  | 'CONTACTADMIN'
  | 'NOPERM'
  | 'INUSE'
  | 'EXPUNGEISSUED'
  | 'CORRUPTION'
  | 'SERVERBUG'
  | 'CLIENTBUG'
  | 'CANNOT'
  | 'LIMIT'
  | 'OVERQUOTA'
  | 'ALREADYEXISTS'
  | 'NONEXISTENT';

export type ResponseCode =
  | { readonly code: SimpleResponseCode }
  | { readonly code: 'BADCHARSET'; readonly charsets?: readonly string[] }
  | { readonly code: 'CAPABILITY'; readonly capabilities: readonly string[] }
  | { readonly code: 'PERMANENTFLAGS'; readonly flags: readonly string[] }
  | { readonly code: 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN'; readonly value: number }
  /** RFC 4315: the UIDs given to the appended messages, in order. */
  | { readonly code: 'APPENDUID'; readonly uidValidity: number; readonly uids: readonly number[] }
  /** RFC 4315: source and destination UIDs, pairwise in the same order. */
  | {
      readonly code: 'COPYUID';
      readonly uidValidity: number;
      readonly source: readonly number[];
      readonly destination: readonly number[];
    }
  | { readonly code: 'HIGHESTMODSEQ'; readonly value: bigint }
  /** RFC 7162 §3.1.3: messages STORE did not change because of UNCHANGEDSINCE. */
  | { readonly code: 'MODIFIED'; readonly set: readonly number[] | readonly NumberRange[] }
  /** RFC 8474 §4.1: the id of a created mailbox. */
  | { readonly code: 'MAILBOXID'; readonly id: string };

const ATOMISH = /^[!#-'+-9;-Z^-z|~-]+$/;

function charsetText(name: string): string {
  return ATOMISH.test(name) ? name : JSON.stringify(name.replace(/["\\\r\n]/g, ''));
}

/** The text inside `[...]`. Values are protocol atoms and numbers, never user data with CR/LF. */
export function formatResponseCode(rc: ResponseCode): string {
  switch (rc.code) {
    case 'BADCHARSET':
      return rc.charsets && rc.charsets.length > 0
        ? `BADCHARSET (${rc.charsets.map(charsetText).join(' ')})`
        : 'BADCHARSET';
    case 'CAPABILITY':
      return ['CAPABILITY', ...rc.capabilities].join(' ');
    case 'PERMANENTFLAGS':
      return `PERMANENTFLAGS (${rc.flags.join(' ')})`;
    case 'UIDNEXT':
    case 'UIDVALIDITY':
    case 'UNSEEN':
      return `${rc.code} ${rc.value}`;
    case 'APPENDUID':
      return `APPENDUID ${rc.uidValidity} ${formatUidList(rc.uids)}`;
    case 'COPYUID':
      return `COPYUID ${rc.uidValidity} ${formatUidList(rc.source)} ${formatUidList(rc.destination)}`;
    case 'HIGHESTMODSEQ':
      return `HIGHESTMODSEQ ${rc.value}`;
    case 'MODIFIED':
      return `MODIFIED ${formatSequenceSet(rc.set)}`;
    case 'MAILBOXID':
      return `MAILBOXID (${rc.id})`;
    default:
      return rc.code;
  }
}
