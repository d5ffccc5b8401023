/**
 * Mailbox names as LIST shows them (RFC 9051 §6.3.9): pattern matching with `*` and `%`, the name
 * attributes (\HasChildren / \HasNoChildren, \Subscribed, RFC 6154 special use) from the account's listing.
 */
import { AlreadyExistsError } from '../core/errors.ts';
import { HIERARCHY_DELIMITER, normalizeMailboxName } from '../core/mailboxNames.ts';
import type { MailboxState } from '../core/ports.ts';
import type { ImapMailStore } from './backend.ts';
import type { ListEntry } from './codec/index.ts';

export { HIERARCHY_DELIMITER };

/**
 * What the mailbox commands add to CAPABILITY: RFC 5258, RFC 5819, RFC 3348, RFC 6154 §3, RFC 8438 and
 * RFC 9208 (STORAGE only: there is no message-count limit; STATUS DELETED-STORAGE goes with it, §4.4).
 */
export const MAILBOX_CAPABILITIES: readonly string[] = [
  'LIST-EXTENDED',
  'LIST-STATUS',
  'CHILDREN',
  'CREATE-SPECIAL-USE',
  'STATUS=SIZE',
  'QUOTA',
  'QUOTA=RES-STORAGE',
];

/** RFC 9051 §6.3.9: `*` matches anything, `%` anything but the delimiter; INBOX matches case-insensitively. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = pattern.startsWith(HIERARCHY_DELIMITER) || reference === '' ? pattern : `${reference}${pattern}`;
  const escaped = full
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, '[^/]*');
  const re = new RegExp(`^${escaped}$`);
  const inboxRe = new RegExp(`^${escaped}$`, 'i');
  return (name) => re.test(name) || (name === 'INBOX' && inboxRe.test(name));
}

/** The parent levels of the names: `a` and `a/b` for `a/b/c`. */
export function parentsOf(names: Iterable<string>): Set<string> {
  const parents = new Set<string>();
  for (const name of names) {
    const levels = name.split(HIERARCHY_DELIMITER);
    for (let i = 1; i < levels.length; i++) parents.add(levels.slice(0, i).join(HIERARCHY_DELIMITER));
  }
  return parents;
}

/**
 * RFC 3501 §5.1 / RFC 9051 §5.1: `*` and `%` are LIST wildcards and should not be used in a name (a LIST
 * could not name it alone); CREATE and RENAME refuse them, as Dovecot does.
 */
export const hasListWildcard = (name: string): boolean => name.includes('*') || name.includes('%');

/**
 * RFC 3501 §6.3.3 / §6.3.5 (RFC 9051 §6.3.4, §6.3.6): CREATE and RENAME SHOULD create the superior names the
 * new name needs (`a` and `a/b` for `a/b/c`). One made meanwhile by another session is fine.
 */
export async function createSuperiors(mail: ImapMailStore, accountId: string, name: string): Promise<void> {
  for (const parent of [...parentsOf([name])].sort((a, b) => a.length - b.length)) {
    if (parent === '' || parent.endsWith(HIERARCHY_DELIMITER) || (await mail.getMailbox(accountId, parent))) continue;
    try {
      await mail.createMailbox(accountId, parent, { subscribed: false });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
}

/**
 * RFC 9051 §6.3.4 CREATE, §6.3.5 DELETE, §6.3.6 RENAME: a name given in another form than the stored one
 * (NFC, §5.1) SHOULD be told as a LIST of the stored name with OLDNAME (the given one). Only IMAP4rev2 has
 * LIST extended data; undefined when the name was already normal.
 */
export function oldNameEntry(given: string, attributes: string[] = []): ListEntry | undefined {
  const name = normalizeMailboxName(given);
  return name === given ? undefined : { attributes, delimiter: HIERARCHY_DELIMITER, name, oldName: given };
}

export interface ListedName {
  readonly name: string;
  readonly attributes: string[];
  /** The mailbox, when the name is one (not a parent level without a mailbox of its own). */
  readonly box?: MailboxState;
  /** RFC 5258 §3.5: the selection options some descendant meets (RECURSIVEMATCH only). */
  readonly childInfo?: string[];
  /** Whether the name itself meets the selection criteria (RFC 5819: only those get a STATUS). */
  readonly selected: boolean;
}

/** What LIST selects (RFC 5258 §3, RFC 6154 §5.3); no option at all lists every name. */
export interface ListSelection {
  readonly subscribed: boolean;
  readonly specialUse: boolean;
  readonly recursiveMatch: boolean;
}

const NO_SELECTION: ListSelection = { subscribed: false, specialUse: false, recursiveMatch: false };

/** The base selection options the criteria are made of, as CHILDINFO names them (RFC 5258 §3.5). */
function criteriaNames(sel: ListSelection): string[] {
  return [...(sel.subscribed ? ['SUBSCRIBED'] : []), ...(sel.specialUse ? ['SPECIAL-USE'] : [])];
}

interface NameState {
  readonly box?: MailboxState;
  readonly subscribed: boolean;
}

/** Whether a name meets every selection option given; without any, every name (and implied parent) does. */
function meets(sel: ListSelection, name: NameState): boolean {
  if (!sel.subscribed && !sel.specialUse) return true;
  return (!sel.subscribed || name.subscribed) && (!sel.specialUse || !!name.box?.specialUse);
}

/**
 * LIST/LSUB entries for the names the matcher accepts; parents without a mailbox are \NonExistent.
 * With selection options only the names meeting them are listed, and with RECURSIVEMATCH also a name with a
 * descendant that meets them (CHILDINFO), unless every such descendant is listed itself (RFC 5258 §3.5:
 * redundant responses are suppressed; RFC 5258 §5 example 9). `orphans` are subscribed names without a
 * mailbox: only the SUBSCRIBED selection lists them (RFC 5258 §3.1, \NonExistent \Subscribed).
 */
export function listNames(
  boxes: readonly MailboxState[],
  matches: (name: string) => boolean,
  selection: ListSelection = NO_SELECTION,
  orphans: readonly string[] = [],
): ListedName[] {
  const existing = new Map(boxes.map((b) => [b.name, b] as const));
  const parents = parentsOf(existing.keys());
  const subscribedOrphans = selection.subscribed ? orphans.filter((n) => !existing.has(n)) : [];
  const all = new Set([...existing.keys(), ...parents, ...subscribedOrphans, ...parentsOf(subscribedOrphans)]);
  const names = [...all].sort(compareNames);
  const orphanSet = new Set(subscribedOrphans);
  const stateOf = (name: string): NameState => {
    const box = existing.get(name);
    return box ? { box, subscribed: box.subscribed } : { subscribed: orphanSet.has(name) };
  };
  const meeting = names.filter((n) => meets(selection, stateOf(n)));
  const out: ListedName[] = [];
  for (const name of names) {
    if (!matches(name)) continue;
    const state = stateOf(name);
    const selected = meets(selection, state);
    const childInfo = selection.recursiveMatch && descendantInfo(name, meeting, matches, selected);
    if (!selected && !childInfo) continue;
    const { box } = state;
    const attributes = [parents.has(name) ? '\\HasChildren' : '\\HasNoChildren'];
    if (!box) attributes.unshift('\\NonExistent', '\\Noselect');
    if (state.subscribed) attributes.push('\\Subscribed');
    if (box?.specialUse) attributes.push(box.specialUse);
    out.push({
      name,
      attributes,
      selected,
      ...(box ? { box } : {}),
      ...(childInfo ? { childInfo: criteriaNames(selection) } : {}),
    });
  }
  return out;
}

/**
 * RFC 5258 §3.5 for one listed name: true when a descendant meets the criteria. A name that does not meet
 * them itself is only worth listing for a descendant the pattern does not list anyway.
 */
function descendantInfo(
  name: string,
  meeting: readonly string[],
  matches: (name: string) => boolean,
  selected: boolean,
): boolean {
  const prefix = `${name}${HIERARCHY_DELIMITER}`;
  const below = meeting.filter((n) => n.startsWith(prefix));
  return below.length > 0 && (selected || below.some((n) => !matches(n)));
}

/** INBOX first, then by name. */
function compareNames(a: string, b: string): number {
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
