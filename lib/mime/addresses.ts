/**
 * Address lists (RFC 5322 §3.4) as the IMAP ENVELOPE needs them (RFC 3501 §7.4.2): each address is
 * (name adl mailbox host); a group is a start marker (host NIL, mailbox = group name), its members, and an end
 * marker (mailbox NIL, host NIL). Lenient like real mail needs: an address that does not parse is kept as a
 * mailbox with the MISSING_DOMAIN stand-in rather than dropped.
 */
import { decodeWords, unquote } from './headers.ts';

export interface EnvelopeAddress {
  /** Display name (quotes removed, encoded words kept as sent), or null. */
  readonly name: string | null;
  /** Source route (obsolete), or null. */
  readonly adl: string | null;
  /** Local part; for a group marker, the group name (start) or null (end). */
  readonly mailbox: string | null;
  /** Domain; null for group markers. */
  readonly host: string | null;
}

/** Splits on commas that are outside quotes, comments and angle brackets; keeps groups together. */
function topLevelItems(value: string): string[] {
  const items: string[] = [];
  let buf = '';
  let quoted = false;
  let comment = 0;
  let angle = false;
  let group = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || comment > 0)) {
      buf += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (!quoted && c === '(') comment++;
    else if (!quoted && c === ')' && comment > 0) comment--;
    else if (comment === 0 && c === '"') quoted = !quoted;
    else if (comment === 0 && !quoted) {
      if (c === '<') angle = true;
      else if (c === '>') angle = false;
      else if (c === ':' && !angle) group = true;
      else if (c === ';' && !angle && group) {
        buf += c;
        items.push(buf);
        buf = '';
        group = false;
        continue;
      } else if (c === ',' && !angle && !group) {
        items.push(buf);
        buf = '';
        continue;
      }
    }
    buf += c;
  }
  items.push(buf);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function commentText(value: string): string | undefined {
  const m = /\(([^()]*)\)/.exec(value);
  return m ? m[1].trim() || undefined : undefined;
}

function withoutComments(value: string): string {
  return value.replace(/\((?:[^()\\]|\\.)*\)/g, ' ').trim();
}

/**
 * RFC 3501 §7.4.2: a NIL host marks group syntax, so an address written without a domain (or a local part)
 * gets a stand-in instead, as Dovecot does; otherwise a client would read it as the start of a group.
 */
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
export const MISSING_MAILBOX = 'MISSING_MAILBOX';

function splitAddrSpec(spec: string): { adl: string | null; mailbox: string; host: string } {
  let s = spec.trim();
  let adl: string | null = null;
  const route = /^(@[^:]+):(.*)$/.exec(s);
  if (route) {
    adl = route[1];
    s = route[2];
  }
  const at = s.lastIndexOf('@');
  const mailbox = (at === -1 ? s : s.slice(0, at)).trim();
  const host = at === -1 ? '' : s.slice(at + 1).trim();
  return { adl, mailbox: mailbox || MISSING_MAILBOX, host: host || MISSING_DOMAIN };
}

function parseMailbox(item: string): EnvelopeAddress | undefined {
  const lt = item.lastIndexOf('<');
  const gt = item.lastIndexOf('>');
  if (lt !== -1 && gt > lt) {
    const phrase = withoutComments(item.slice(0, lt));
    const spec = splitAddrSpec(item.slice(lt + 1, gt));
    return { name: phrase ? unquote(phrase) : null, ...spec };
  }
  const spec = withoutComments(item);
  if (!spec) return undefined;
  return { name: commentText(item) ?? null, ...splitAddrSpec(spec) };
}

/** Parses an address-list field value into IMAP envelope addresses (group markers included). */
export function parseAddressList(value: string | undefined, max = 200): EnvelopeAddress[] {
  if (!value) return [];
  const out: EnvelopeAddress[] = [];
  for (const item of topLevelItems(value)) {
    if (out.length >= max) break;
    const colon = findGroupColon(item);
    if (colon !== -1) {
      const name = unquote(withoutComments(item.slice(0, colon)));
      const inner = item.slice(colon + 1).replace(/;\s*$/, '');
      out.push({ name: null, adl: null, mailbox: name, host: null });
      for (const member of topLevelItems(inner)) {
        const a = parseMailbox(member);
        if (a) out.push(a);
      }
      out.push({ name: null, adl: null, mailbox: null, host: null });
      continue;
    }
    const a = parseMailbox(item);
    if (a) out.push(a);
  }
  return out;
}

/** The ':' of a group (`name: members;`), outside quotes and angle brackets; -1 if the item is not a group. */
function findGroupColon(item: string): number {
  let quoted = false;
  let angle = false;
  for (let i = 0; i < item.length; i++) {
    const c = item[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') angle = true;
    else if (!quoted && c === '>') angle = false;
    else if (!quoted && !angle && c === ':') return item.trim().endsWith(';') ? i : -1;
  }
  return -1;
}

/** A readable, decoded form of an address list for SEARCH/SORT: `Name <user@host>, other@host`. */
export function displayAddresses(list: readonly EnvelopeAddress[]): string {
  return list
    .filter((a) => a.host !== null)
    .map((a) => {
      const addr = a.host === MISSING_DOMAIN ? `${a.mailbox}` : `${a.mailbox}@${a.host}`;
      return a.name ? `${decodeWords(a.name)} <${addr}>` : addr;
    })
    .join(', ');
}
