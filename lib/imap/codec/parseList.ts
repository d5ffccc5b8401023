/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258 §3): selection options before the reference, several
 * patterns in parentheses, RETURN options (SUBSCRIBED, CHILDREN, RFC 6154 SPECIAL-USE, RFC 5819 STATUS).
 */
import type { ListCommand, StatusItem } from './ast.ts';
import { type Args, CommandParseError } from './cursor.ts';
import { parseStatusItems } from './parseMailbox.ts';

type Selection = { -readonly [K in keyof ListCommand['selection']]: boolean };

function parseSelection(list: Args): Selection {
  const sel: Selection = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  while (!list.done) {
    const option = list.keyword('selection option');
    if (option === 'SUBSCRIBED') sel.subscribed = true;
    else if (option === 'REMOTE') sel.remote = true;
    else if (option === 'RECURSIVEMATCH') sel.recursiveMatch = true;
    else if (option === 'SPECIAL-USE') sel.specialUse = true;
    else throw new CommandParseError(`unknown LIST selection option ${option.slice(0, 30)}`);
  }
  // RFC 5258 §3: RECURSIVEMATCH alone (or with REMOTE only) is a syntax error
  if (sel.recursiveMatch && !sel.subscribed && !sel.specialUse) {
    throw new CommandParseError('RECURSIVEMATCH needs another selection option');
  }
  return sel;
}

function parseReturns(list: Args): ListCommand['returns'] {
  let subscribed = false;
  let children = false;
  let specialUse = false;
  let status: StatusItem[] | undefined;
  while (!list.done) {
    const option = list.keyword('return option');
    if (option === 'SUBSCRIBED') subscribed = true;
    else if (option === 'CHILDREN') children = true;
    else if (option === 'SPECIAL-USE') specialUse = true;
    else if (option === 'STATUS' && !status) status = parseStatusItems(list.list('status items'));
    else throw new CommandParseError(`unknown LIST return option ${option.slice(0, 30)}`);
  }
  return { subscribed, children, specialUse, ...(status ? { status } : {}) };
}

export function parseListCommand(tag: string, args: Args): ListCommand {
  const selectionList = args.optionalList();
  const selection = selectionList
    ? parseSelection(selectionList)
    : { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
  const reference = args.pattern('reference name');
  const patternList = args.optionalList();
  const patterns: string[] = [];
  if (patternList) {
    while (!patternList.done) patterns.push(patternList.pattern());
    if (patterns.length === 0) throw new CommandParseError('empty pattern list');
  } else patterns.push(args.pattern());
  let returns: ListCommand['returns'] = { subscribed: false, children: false, specialUse: false };
  const hasReturn = args.accept('RETURN');
  if (hasReturn) returns = parseReturns(args.list('return options'));
  args.end();
  return {
    type: 'LIST',
    tag,
    reference,
    patterns,
    selection,
    returns,
    extended: selectionList !== undefined || patternList !== undefined || hasReturn,
  };
}
