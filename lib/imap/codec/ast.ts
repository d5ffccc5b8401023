/**
 * Parsed IMAP commands: a discriminated union on `type` (the command name; UID variants set `uid`). Names
 * are RFC 9051 §6 and the extensions' (see README.md). Mailbox names are decoded (modified UTF-7 unless in
 * UTF-8 mode) with INBOX normalised; strings are decoded text unless they are octets by nature.
 */
import type { ImapDate, ImapDateTime } from './dates.ts';
import type { SequenceSet } from './sequenceSet.ts';

interface Base {
  readonly tag: string;
}

export type SimpleCommandName =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'IDLE'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'NAMESPACE';

export interface SimpleCommand extends Base {
  readonly type: SimpleCommandName;
}

/** RFC 9051 §6.2.2 with RFC 4959 SASL-IR: `initialResponse` is null when absent, empty for `=`. */
export interface AuthenticateCommand extends Base {
  readonly type: 'AUTHENTICATE';
  /** Upper-case SASL mechanism name. */
  readonly mechanism: string;
  readonly initialResponse: Buffer | null;
}

export interface LoginCommand extends Base {
  readonly type: 'LOGIN';
  readonly username: string;
  readonly password: string;
}

/** RFC 5161 */
export interface EnableCommand extends Base {
  readonly type: 'ENABLE';
  /** Upper-case capability names. */
  readonly capabilities: readonly string[];
}

/** RFC 7162 §3.2.5 */
export interface QresyncParams {
  readonly uidValidity: number;
  readonly modSeq: bigint;
  readonly knownUids?: SequenceSet;
  readonly seqMatch?: { readonly sequences: SequenceSet; readonly uids: SequenceSet };
}

export interface SelectCommand extends Base {
  readonly type: 'SELECT' | 'EXAMINE';
  readonly mailbox: string;
  /** `(CONDSTORE)` (RFC 7162 §3.1.8). */
  readonly condstore: boolean;
  readonly qresync?: QresyncParams;
}

/** RFC 9051 §6.3.4 with RFC 6154 §3 `(USE (\Drafts))`. */
export interface CreateCommand extends Base {
  readonly type: 'CREATE';
  readonly mailbox: string;
  /** Special-use attributes as canonical `\Name` strings. */
  readonly specialUse: readonly string[];
}

export interface MailboxCommand extends Base {
  readonly type: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE';
  readonly mailbox: string;
}

export interface RenameCommand extends Base {
  readonly type: 'RENAME';
  readonly from: string;
  readonly to: string;
}

export type StatusItem =
  | 'MESSAGES'
  | 'UIDNEXT'
  | 'UIDVALIDITY'
  | 'UNSEEN'
  | 'DELETED'
  /** RFC 9208 §4.4: KiB that EXPUNGE would free. */
  | 'DELETED-STORAGE'
  | 'SIZE'
  | 'RECENT'
  | 'HIGHESTMODSEQ'
  | 'APPENDLIMIT'
  | 'MAILBOXID';

/** LIST with RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE and RFC 5819 LIST-STATUS. */
export interface ListCommand extends Base {
  readonly type: 'LIST';
  /** The reference name, decoded, not normalised. */
  readonly reference: string;
  /** Patterns, decoded (wildcards `%` and `*` kept). */
  readonly patterns: readonly string[];
  readonly selection: {
    readonly subscribed: boolean;
    readonly remote: boolean;
    readonly recursiveMatch: boolean;
    readonly specialUse: boolean;
  };
  readonly returns: {
    readonly subscribed: boolean;
    readonly children: boolean;
    readonly specialUse: boolean;
    /** RETURN (STATUS (...)) */
    readonly status?: readonly StatusItem[];
  };
  /** Whether any extended syntax was used (then LIST responses carry extended data, RFC 5258 §3). */
  readonly extended: boolean;
}

export interface LsubCommand extends Base {
  readonly type: 'LSUB';
  readonly reference: string;
  readonly pattern: string;
}

export interface StatusCommand extends Base {
  readonly type: 'STATUS';
  readonly mailbox: string;
  readonly items: readonly StatusItem[];
}

export type MessageData =
  | { readonly kind: 'streamed'; readonly seq: number; readonly size: number }
  | { readonly kind: 'inline'; readonly bytes: Buffer };

/** One message of an APPEND (RFC 3502 MULTIAPPEND allows several). */
export interface AppendMessage {
  readonly flags: readonly string[];
  readonly internalDate?: ImapDateTime;
  /** Sent as literal8 (RFC 3516): may contain NUL and 8-bit. */
  readonly binary: boolean;
  /** The RFC 6855 `UTF8 (~{n})` form. */
  readonly utf8: boolean;
  readonly data: MessageData;
}

export interface AppendCommand extends Base {
  readonly type: 'APPEND';
  readonly mailbox: string;
  readonly messages: readonly AppendMessage[];
}

/** EXPUNGE, and UID EXPUNGE (RFC 4315) with its UID set. */
export interface ExpungeCommand extends Base {
  readonly type: 'EXPUNGE';
  readonly uids?: SequenceSet;
}

export type FlagSearchKey =
  | 'ALL'
  | 'ANSWERED'
  | 'DELETED'
  | 'DRAFT'
  | 'FLAGGED'
  | 'NEW'
  | 'OLD'
  | 'RECENT'
  | 'SEEN'
  | 'UNANSWERED'
  | 'UNDELETED'
  | 'UNDRAFT'
  | 'UNFLAGGED'
  | 'UNSEEN'
  | 'SAVEDATESUPPORTED';

export type SearchKey =
  | { readonly type: FlagSearchKey }
  | { readonly type: 'KEYWORD' | 'UNKEYWORD'; readonly flag: string }
  | { readonly type: 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO'; readonly value: string }
  | { readonly type: 'HEADER'; readonly field: string; readonly value: string }
  | {
      readonly type:
        | 'BEFORE'
        | 'ON'
        | 'SINCE'
        | 'SENTBEFORE'
        | 'SENTON'
        | 'SENTSINCE'
        | 'SAVEDBEFORE'
        | 'SAVEDON'
        | 'SAVEDSINCE';
      readonly date: ImapDate;
    }
  /** RFC 5032 WITHIN: seconds. */
  | { readonly type: 'OLDER' | 'YOUNGER'; readonly seconds: number }
  | { readonly type: 'LARGER' | 'SMALLER'; readonly size: number }
  | { readonly type: 'UID' | 'SEQUENCE'; readonly set: SequenceSet }
  | { readonly type: 'NOT'; readonly key: SearchKey }
  | { readonly type: 'OR'; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly type: 'AND'; readonly keys: readonly SearchKey[] }
  /** RFC 7162 §3.1.5; `entry` names a flag's metadata item (`/flags/\Seen`). */
  | {
      readonly type: 'MODSEQ';
      readonly modSeq: bigint;
      readonly entry?: { readonly name: string; readonly entryType: 'priv' | 'shared' | 'all' };
    }
  /** RFC 8474 §6 */
  | { readonly type: 'EMAILID' | 'THREADID'; readonly id: string };

/** RFC 4731 ESEARCH result options (with RFC 5182 SAVE). `RETURN ()` means ALL. */
export interface SearchReturn {
  readonly min: boolean;
  readonly max: boolean;
  readonly all: boolean;
  readonly count: boolean;
  readonly save: boolean;
}

export interface SearchCommand extends Base {
  readonly type: 'SEARCH';
  readonly uid: boolean;
  /** Upper-case charset name when CHARSET was given. */
  readonly charset?: string;
  /** Present when RETURN (...) was given: answer with ESEARCH. */
  readonly returns?: SearchReturn;
  /** The criteria, ANDed. */
  readonly criteria: readonly SearchKey[];
}

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** A body section (RFC 9051 §6.4.5): part numbers (1-based, empty for the whole message) and a text spec. */
export interface Section {
  readonly part: readonly number[];
  readonly text?: SectionText;
  /** Header field names for HEADER.FIELDS (.NOT), as the client spelled them. */
  readonly fields?: readonly string[];
}

export interface PartialRange {
  readonly offset: number;
  readonly length: number;
}

export type SimpleFetchItem =
  | 'UID'
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODYSTRUCTURE'
  /** BODY without a section: the non-extensible BODYSTRUCTURE. */
  | 'BODY'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT'
  | 'MODSEQ'
  | 'EMAILID'
  | 'THREADID'
  | 'SAVEDATE';

export type FetchItem =
  | { readonly type: SimpleFetchItem }
  | { readonly type: 'BODY[]'; readonly peek: boolean; readonly section: Section; readonly partial?: PartialRange }
  /** RFC 3516: decoded content of a part. */
  | {
      readonly type: 'BINARY';
      readonly peek: boolean;
      readonly part: readonly number[];
      readonly partial?: PartialRange;
    }
  | { readonly type: 'BINARY.SIZE'; readonly part: readonly number[] };

export interface FetchCommand extends Base {
  readonly type: 'FETCH';
  readonly uid: boolean;
  readonly set: SequenceSet;
  /** The items, macros expanded (ALL, FAST, FULL per RFC 9051 §6.4.5). */
  readonly items: readonly FetchItem[];
  readonly macro?: 'ALL' | 'FAST' | 'FULL';
  /** RFC 7162 §3.1.4 CHANGEDSINCE. */
  readonly changedSince?: bigint;
  /** RFC 7162 §3.2.6 VANISHED (only with UID FETCH and CHANGEDSINCE). */
  readonly vanished: boolean;
}

export interface StoreCommand extends Base {
  readonly type: 'STORE';
  readonly uid: boolean;
  readonly set: SequenceSet;
  /** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  readonly action: 'set' | 'add' | 'remove';
  readonly silent: boolean;
  readonly flags: readonly string[];
  /** RFC 7162 §3.1.3 UNCHANGEDSINCE. */
  readonly unchangedSince?: bigint;
}

export interface CopyCommand extends Base {
  readonly type: 'COPY' | 'MOVE';
  readonly uid: boolean;
  readonly set: SequenceSet;
  readonly mailbox: string;
}

/** RFC 2971: null for `ID NIL`. */
export interface IdCommand extends Base {
  readonly type: 'ID';
  readonly params: readonly (readonly [string, string | null])[] | null;
}

/** RFC 9208 */
export interface GetQuotaCommand extends Base {
  readonly type: 'GETQUOTA';
  readonly root: string;
}

export interface GetQuotaRootCommand extends Base {
  readonly type: 'GETQUOTAROOT';
  readonly mailbox: string;
}

export interface SetQuotaCommand extends Base {
  readonly type: 'SETQUOTA';
  readonly root: string;
  /** Upper-case resource names with their limits. */
  readonly limits: readonly { readonly resource: string; readonly limit: bigint }[];
}

export type Command =
  | SimpleCommand
  | AuthenticateCommand
  | LoginCommand
  | EnableCommand
  | SelectCommand
  | CreateCommand
  | MailboxCommand
  | RenameCommand
  | ListCommand
  | LsubCommand
  | StatusCommand
  | AppendCommand
  | ExpungeCommand
  | SearchCommand
  | FetchCommand
  | StoreCommand
  | CopyCommand
  | IdCommand
  | GetQuotaCommand
  | GetQuotaRootCommand
  | SetQuotaCommand;

export type CommandType = Command['type'];
