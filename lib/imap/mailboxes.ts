/**
 * Mailbox names as LIST shows them (RFC 9051 §6.3.9): pattern matching with `*` and `%`, the name
 * attributes (\HasChildren / \HasNoChildren, \Subscribed, RFC 6154 special use) from the account's listing.
 */
import { HIERARCHY_DELIMITER } from '../core/mailboxNames.ts';
import type { MailboxState } from '../core/ports.ts';

export { HIERARCHY_DELIMITER };

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

/** Every name the listing implies: the mailboxes and their parents that do not exist themselves. */
export function childrenOf(boxes: readonly MailboxState[]): Set<string> {
  const parents = new Set<string>();
  for (const b of boxes) {
    const levels = b.name.split(HIERARCHY_DELIMITER);
    for (let i = 1; i < levels.length; i++) parents.add(levels.slice(0, i).join(HIERARCHY_DELIMITER));
  }
  return parents;
}

export interface ListedName {
  readonly name: string;
  readonly attributes: string[];
}

/** LIST/LSUB entries for the names the matcher accepts; parents without a mailbox are \NonExistent. */
export function listNames(
  boxes: readonly MailboxState[],
  matches: (name: string) => boolean,
  opts: { subscribedOnly: boolean },
): ListedName[] {
  const parents = childrenOf(boxes);
  const byName = new Map(boxes.map((b) => [b.name, b] as const));
  const out: ListedName[] = [];
  const names = new Set([...byName.keys(), ...parents]);
  for (const name of [...names].sort(compareNames)) {
    if (!matches(name)) continue;
    const box = byName.get(name);
    if (opts.subscribedOnly && !box?.subscribed) continue;
    const attributes = [parents.has(name) ? '\\HasChildren' : '\\HasNoChildren'];
    if (!box) attributes.unshift('\\NonExistent', '\\Noselect');
    if (box?.subscribed) attributes.push('\\Subscribed');
    if (box?.specialUse) attributes.push(box.specialUse);
    out.push({ name, attributes });
  }
  return out;
}

/** INBOX first, then by name. */
function compareNames(a: string, b: string): number {
  if (a === 'INBOX') return -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
