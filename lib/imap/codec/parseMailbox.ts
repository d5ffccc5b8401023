/**
 * Mailbox commands: SELECT/EXAMINE (RFC 7162 CONDSTORE/QRESYNC), CREATE (RFC 6154 USE), DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, STATUS, LSUB, and the RFC 9208 QUOTA commands.
 */
import type {
  CreateCommand,
  GetQuotaCommand,
  GetQuotaRootCommand,
  LsubCommand,
  MailboxCommand,
  QresyncParams,
  RenameCommand,
  SelectCommand,
  SetQuotaCommand,
  StatusCommand,
  StatusItem,
} from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';

const STATUS_ITEMS: readonly StatusItem[] = [
  'MESSAGES',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'DELETED-STORAGE',
  'SIZE',
  'RECENT',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
  'MAILBOXID',
];
const isStatusItem = (s: string): s is StatusItem => (STATUS_ITEMS as readonly string[]).includes(s);

const USE_ATTRS = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

/** status-att *(SP status-att) inside the list (at least one). */
export function parseStatusItems(list: Args): StatusItem[] {
  const items: StatusItem[] = [];
  while (!list.done) {
    const item = list.keyword('status item');
    if (!isStatusItem(item)) throw new CommandParseError(`unknown status item ${item.slice(0, 30)}`);
    if (!items.includes(item)) items.push(item);
  }
  if (items.length === 0) throw new CommandParseError('empty status item list');
  return items;
}

function parseQresync(list: Args): QresyncParams {
  const uidValidity = list.nzNumber('UIDVALIDITY');
  const modSeq = list.number64('mod-sequence');
  const noStar = { allowStar: false, allowSaved: false };
  const knownUids = list.peek()?.type === 'atom' ? list.sequenceSet('known UIDs', noStar) : undefined;
  const matchList = list.optionalList();
  list.end();
  let seqMatch: QresyncParams['seqMatch'];
  if (matchList) {
    const sequences = matchList.sequenceSet('known sequence set', noStar);
    const uids = matchList.sequenceSet('known UID set', noStar);
    matchList.end();
    seqMatch = { sequences, uids };
  }
  return {
    uidValidity,
    modSeq,
    ...(knownUids ? { knownUids } : {}),
    ...(seqMatch ? { seqMatch } : {}),
  };
}

export function parseSelect(type: 'SELECT' | 'EXAMINE', tag: string, args: Args): SelectCommand {
  const mailbox = args.mailbox();
  let condstore = false;
  let qresync: QresyncParams | undefined;
  const params = args.optionalList();
  args.end();
  while (params && !params.done) {
    const name = params.keyword('select parameter');
    if (name === 'CONDSTORE') condstore = true;
    else if (name === 'QRESYNC' && !qresync) qresync = parseQresync(params.list('QRESYNC parameters'));
    else throw new CommandParseError(`unknown ${type} parameter ${name.slice(0, 30)}`);
  }
  return { type, tag, mailbox, condstore, ...(qresync ? { qresync } : {}) };
}

export function parseCreate(tag: string, args: Args): CreateCommand {
  const mailbox = args.mailbox();
  const specialUse: string[] = [];
  const params = args.optionalList();
  args.end();
  while (params && !params.done) {
    const name = params.keyword('CREATE parameter');
    if (name !== 'USE') throw new CommandParseError(`unknown CREATE parameter ${name.slice(0, 30)}`);
    const attrs = params.list('USE attributes');
    while (!attrs.done) {
      const attr = attrs.atom('special-use attribute');
      const known = USE_ATTRS.find((a) => a.toLowerCase() === attr.toLowerCase());
      if (!known)
        throw new CommandParseError(`unknown special-use attribute ${attr.slice(0, 30)}`, 'NO', { code: 'USEATTR' });
      if (!specialUse.includes(known)) specialUse.push(known);
    }
  }
  return { type: 'CREATE', tag, mailbox, specialUse };
}

export function parseMailboxOnly(type: MailboxCommand['type'], tag: string, args: Args): MailboxCommand {
  const mailbox = args.mailbox();
  args.end();
  return { type, tag, mailbox };
}

export function parseRename(tag: string, args: Args): RenameCommand {
  const from = args.mailbox('existing mailbox name');
  const to = args.mailbox('new mailbox name');
  args.end();
  return { type: 'RENAME', tag, from, to };
}

export function parseStatus(tag: string, args: Args): StatusCommand {
  const mailbox = args.mailbox();
  const items = parseStatusItems(args.list('status items'));
  args.end();
  return { type: 'STATUS', tag, mailbox, items };
}

export function parseLsub(tag: string, args: Args): LsubCommand {
  const reference = args.pattern('reference name');
  const pattern = args.pattern();
  args.end();
  return { type: 'LSUB', tag, reference, pattern };
}

export function parseGetQuota(tag: string, args: Args): GetQuotaCommand {
  const root = args.astring('quota root');
  args.end();
  return { type: 'GETQUOTA', tag, root };
}

export function parseGetQuotaRoot(tag: string, args: Args): GetQuotaRootCommand {
  const mailbox = args.mailbox();
  args.end();
  return { type: 'GETQUOTAROOT', tag, mailbox };
}

export function parseSetQuota(tag: string, args: Args): SetQuotaCommand {
  const root = args.astring('quota root');
  const list = args.list('quota limits');
  args.end();
  const limits: { resource: string; limit: bigint }[] = [];
  while (!list.done) {
    const resource = list.keyword('resource name');
    limits.push({ resource, limit: list.number64('resource limit') });
  }
  return { type: 'SETQUOTA', tag, root, limits };
}
