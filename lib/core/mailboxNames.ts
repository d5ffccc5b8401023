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
 * Canonical form of a mailbox name: `INBOX` in any case is `INBOX` (RFC 3501 §5.1), anything else is kept
 * as given. Empty levels, control characters and over-long or over-deep names are refused.
 */
export function normalizeMailboxName(input: string): string {
  if (input.toUpperCase() === 'INBOX') return 'INBOX';
  const levels = input.split(HIERARCHY_DELIMITER);
  if (
    input === '' ||
    Buffer.byteLength(input) > MAX_NAME_BYTES ||
    levels.length > MAX_DEPTH ||
    levels.some((l) => l === '') ||
    /[\x00-\x1f\x7f]/.test(input)
  ) {
    throw new InvalidInputError(`invalid mailbox name: ${JSON.stringify(input)}`);
  }
  if (levels[0].toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels.join(HIERARCHY_DELIMITER);
}
