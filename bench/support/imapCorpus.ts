/**
 * The messages of the IMAP benchmark and their preload into Postern. Every message is distinct (its own
 * Message-ID, subject and random body); one in three is multipart/mixed (a multipart/alternative text and
 * HTML pair and a small base64 attachment) so BODYSTRUCTURE has nesting to write. Postern gets them through
 * the MailStore port (blob first, then a group-committed append with the summary the store step keeps),
 * Dovecot as maildir files (bench/support/dovecot.ts): the same octets on both sides.
 */
import { randomBytes } from 'node:crypto';
import type { Storage } from '../../lib/core/ports.ts';
import { boundSummary, summarizeBuffer } from '../../lib/mime/summary.ts';

const lines = (n: number) =>
  Array.from({ length: n }, () => randomBytes(45).toString('base64').slice(0, 60))
    .join('\r\n')
    .concat('\r\n');

/** A message of roughly 2-4 KB, CRLF throughout. */
export function benchMessage(owner: string, index: number): Buffer {
  const id = randomBytes(8).toString('hex');
  const head =
    `From: "Sender ${index % 7}" <sender${index % 7}@bench.example>\r\n` +
    `To: ${owner}\r\n` +
    (index % 4 === 0 ? `Cc: "Copy" <copy@bench.example>, other@bench.example\r\n` : '') +
    `Subject: bench message ${index} for ${owner}\r\n` +
    `Message-ID: <${id}@bench.example>\r\n` +
    `Date: Thu, 1 Jan 2026 ${String(index % 24).padStart(2, '0')}:00:00 +0000\r\n` +
    'MIME-Version: 1.0\r\n';
  if (index % 3 !== 2) {
    return Buffer.from(`${head}Content-Type: text/plain; charset=us-ascii\r\n\r\n${lines(30)}`, 'latin1');
  }
  const outer = `outer-${id}`;
  const inner = `inner-${id}`;
  const body =
    `Content-Type: multipart/mixed; boundary="${outer}"\r\n\r\n` +
    `--${outer}\r\nContent-Type: multipart/alternative; boundary="${inner}"\r\n\r\n` +
    `--${inner}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${lines(10)}` +
    `--${inner}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${lines(10)}</p>\r\n` +
    `--${inner}--\r\n` +
    `--${outer}\r\nContent-Type: application/octet-stream; name="data.bin"\r\n` +
    `Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${lines(12)}` +
    `--${outer}--\r\n`;
  return Buffer.from(head + body, 'latin1');
}

/** Runs `fn` over the items with at most `width` at a time. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** Messages given to one appendMany call (it group-commits them in transactions of its own size). */
const APPEND_GROUP = 500;

/** Puts the messages into the account's INBOX, unflagged, in order (UIDs 1..n on a fresh mailbox). */
export async function preloadPostern(storage: Storage, accountId: string, messages: readonly Buffer[], tag: string) {
  const inbox = await storage.mail.getMailbox(accountId, 'INBOX');
  if (!inbox) throw new Error(`no INBOX for ${accountId}`);
  const keys = messages.map((_, i) => `bench/${tag}/${i}`);
  await inParallel(messages, 8, async (m, i) => {
    await storage.blobs.put(keys[i], m);
  });
  for (let i = 0; i < messages.length; i += APPEND_GROUP) {
    const group = messages.slice(i, i + APPEND_GROUP).map((m, j) => ({
      accountId,
      mailboxId: inbox.mailboxId,
      blobKey: keys[i + j],
      blobSize: m.length,
      headerPrefix: '',
      summary: boundSummary(summarizeBuffer(m)),
    }));
    const results = await storage.mail.appendMany(group);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
