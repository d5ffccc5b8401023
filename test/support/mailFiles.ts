/** Mail to export and import in tests: seeded through the storage ports, read back for comparison. */
import { createHash } from 'node:crypto';
import { randomId } from '../../lib/core/ids.ts';
import { readMessage } from '../../lib/core/messageBody.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { MESSAGE_PREFIX } from '../../lib/core/schema.ts';
import { summarizeBuffer } from '../../lib/mime/summary.ts';

export interface SampleMessage {
  readonly mailbox: string;
  readonly subject: string;
  readonly flags: readonly string[];
  /** INTERNALDATE, whole seconds (what IMAP and both formats keep). */
  readonly date: number;
  readonly body: string;
}

const text = (subject: string, body: string) =>
  `Return-Path: <sender@example.org>\r\nFrom: Sender <sender@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n${body}`;

export const SAMPLE: readonly SampleMessage[] = [
  { mailbox: 'INBOX', subject: 'plain', flags: [], date: Date.UTC(2024, 0, 2, 3, 4, 5), body: 'hello\r\n' },
  {
    mailbox: 'INBOX',
    subject: 'from lines',
    flags: ['\\Seen', '\\Answered', 'work'],
    date: Date.UTC(2023, 6, 1, 12, 0, 0),
    body: 'From the top\r\n>From quoted\r\n>>From twice\r\n\r\n\r\nFrom again\r\n',
  },
  {
    mailbox: 'INBOX',
    subject: 'utf8 and flags',
    flags: ['\\Seen', '\\Flagged', '\\Deleted', '$Label1'],
    date: Date.UTC(2022, 11, 31, 23, 59, 59),
    body: 'Grüße, 日本\r\n',
  },
  { mailbox: 'Sent', subject: 'sent one', flags: ['\\Seen'], date: Date.UTC(2024, 5, 6, 7, 8, 9), body: 'sent\r\n' },
  { mailbox: 'Drafts', subject: 'draft', flags: ['\\Draft'], date: Date.UTC(2024, 1, 29, 0, 0, 1), body: 'later\r\n' },
  { mailbox: 'Lists/rust', subject: 'nested', flags: ['\\Seen'], date: Date.UTC(2020, 1, 2, 3, 4, 5), body: 'x\r\n' },
];

/** Makes the account (domain must exist) and stores the messages, in order. */
export async function seedAccount(
  storage: Storage,
  address: string,
  messages: readonly SampleMessage[],
  passwordHash = 'x',
): Promise<void> {
  const account = await storage.directory.addAccount({ address, passwordHash });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  for (const m of messages) {
    const box =
      (await storage.mail.getMailbox(account.accountId, m.mailbox)) ??
      (await storage.mail.createMailbox(account.accountId, m.mailbox));
    const bytes = Buffer.from(text(m.subject, m.body));
    const blobKey = `${MESSAGE_PREFIX}test-${randomId(12)}`;
    await storage.blobs.put(blobKey, bytes);
    await storage.mail.append({
      accountId: account.accountId,
      mailboxId: box.mailboxId,
      blobKey,
      blobSize: bytes.length,
      flags: m.flags,
      internalDate: m.date,
      summary: summarizeBuffer(bytes),
    });
  }
}

export interface StoredCopy {
  readonly text: string;
  readonly sha256: string;
  readonly flags: string[];
  readonly internalDate: number;
}

/** Every non-empty mailbox of the account: its messages as clients see them, in UID order (or by hash). */
export async function accountMail(
  storage: Storage,
  address: string,
  byHash = false,
): Promise<Record<string, StoredCopy[]>> {
  const account = await storage.directory.getAccountByAddress(address);
  if (!account) throw new Error(`no account ${address}`);
  const out: Record<string, StoredCopy[]> = {};
  for (const box of await storage.mail.listMailboxes(account.accountId)) {
    const copies: StoredCopy[] = [];
    for (const meta of await storage.mail.listMessages(box)) {
      const bytes = await readMessage(storage.blobs, meta);
      copies.push({
        text: bytes.toString('utf8'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        flags: [...meta.flags].sort(),
        internalDate: meta.internalDate,
      });
    }
    if (byHash) copies.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
    if (copies.length > 0) out[box.name] = copies;
  }
  return out;
}
