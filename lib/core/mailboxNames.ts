import { InvalidInputError } from './errors.ts';

/** The hierarchy delimiter IMAP clients see. Names are data, never paths: nothing here touches a file system. */
export const HIERARCHY_DELIMITER = '/';
const MAX_NAME_BYTES = 512;
const MAX_DEPTH = 16;

/** RFC 6154 special-use mailboxes every account gets. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse?: string }[] = [
  { name: 'INBOX' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

/**
 * Canonical form of a mailbox name: `INBOX` in any case is `INBOX` (RFC 3501 §5.1), anything else in
 * Unicode NFC, so a denormalized name reaches the same mailbox in every command (RFC 9051 §5.1). Empty
 * levels, control characters (C0, DEL, C1, LINE and PARAGRAPH SEPARATOR: RFC 6855 §3, Net-Unicode of
 * RFC 5198 §2) and over-long or over-deep names are refused.
 */
export function normalizeMailboxName(given: string): string {
  const input = given.normalize('NFC');
  if (input.toUpperCase() === 'INBOX') return 'INBOX';
  const levels = input.split(HIERARCHY_DELIMITER);
  if (
    input === '' ||
    Buffer.byteLength(input) > MAX_NAME_BYTES ||
    levels.length > MAX_DEPTH ||
    levels.some((l) => l === '') ||
    /[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(input)
  ) {
    throw new InvalidInputError(`invalid mailbox name: ${JSON.stringify(input)}`);
  }
  if (levels[0].toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels.join(HIERARCHY_DELIMITER);
}
