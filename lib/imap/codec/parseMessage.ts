/** Message commands on a selected mailbox: STORE (RFC 7162 UNCHANGEDSINCE), COPY, MOVE (RFC 6851), EXPUNGE and UID EXPUNGE (RFC 4315). */
import type { CopyCommand, ExpungeCommand, StoreCommand } from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';

const STORE_ITEM = /^([+-]?)FLAGS(\.SILENT)?$/;

export function parseStore(tag: string, args: Args, uid: boolean): StoreCommand {
  const set = args.sequenceSet();
  let unchangedSince: bigint | undefined;
  const modifiers = args.optionalList();
  while (modifiers && !modifiers.done) {
    const name = modifiers.keyword('store modifier');
    if (name !== 'UNCHANGEDSINCE' || unchangedSince !== undefined) {
      throw new CommandParseError(`unknown store modifier ${name.slice(0, 30)}`);
    }
    unchangedSince = modifiers.number64('mod-sequence');
  }
  const m = STORE_ITEM.exec(args.keyword('store item'));
  if (!m) throw new CommandParseError('expected FLAGS, +FLAGS or -FLAGS');
  let flags: string[];
  if (args.peek()?.type === 'list') {
    flags = args.flagList();
    args.end();
  } else {
    flags = [];
    while (!args.done) flags.push(args.flag());
    if (flags.length === 0) throw new CommandParseError('missing flags');
  }
  return {
    type: 'STORE',
    tag,
    uid,
    set,
    action: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set',
    silent: m[2] !== undefined,
    flags,
    ...(unchangedSince === undefined ? {} : { unchangedSince }),
  };
}

export function parseCopy(type: 'COPY' | 'MOVE', tag: string, args: Args, uid: boolean): CopyCommand {
  const set = args.sequenceSet();
  const mailbox = args.mailbox();
  args.end();
  return { type, tag, uid, set, mailbox };
}

export function parseExpunge(tag: string, args: Args, uid: boolean): ExpungeCommand {
  if (!uid) {
    args.end();
    return { type: 'EXPUNGE', tag };
  }
  const uids = args.sequenceSet('UID set');
  args.end();
  return { type: 'EXPUNGE', tag, uids };
}
