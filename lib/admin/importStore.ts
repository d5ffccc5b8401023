/**
 * One imported message into one mailbox, the way IMAP APPEND stores one (lib/imap/appendUpload.ts): the
 * octets stream into the blob store while the summary and SHA-256 are computed from the same chunks, then
 * MailStore.appendAll commits the index item with flags and INTERNALDATE. No MDA filtering: it is the
 * user's own mail, already sorted.
 *
 * Each message once: the append carries the idempotency key `import:<SHA-256 of the octets>`, kept for
 * IMPORT_KEY_TTL_SECONDS, so importing the same message into the same mailbox again (a re-run, a resumed
 * migration, the same mail from an mbox and over IMAP) adds nothing; the blob just written then goes.
 * Byte-identical messages within one mailbox are therefore kept once.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { randomId } from '../core/ids.ts';
import type { Account, BlobStore, MailboxState, MailStore } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import { boundSummary, SummaryBuilder } from '../mime/summary.ts';

/** How long an imported message's key lasts: long enough that any re-run within years finds it. */
export const IMPORT_KEY_TTL_SECONDS = 10 * 365 * 86_400;

export interface ImportTarget {
  readonly mail: MailStore;
  readonly blobs: BlobStore;
  readonly account: Account;
}

export interface ImportedMessage {
  /** The octets as they are to be stored (CRLF line ends). */
  readonly body: AsyncIterable<Buffer>;
  /** Flags known before the body is read, or a function asked once it has been (mbox status headers). */
  readonly flags: readonly string[] | (() => readonly string[]);
  /** INTERNALDATE; absent: the Date header's, else now. */
  readonly internalDate?: number;
}

export type ImportOutcome = 'added' | 'duplicate';

export async function importMessage(
  target: ImportTarget,
  box: MailboxState,
  msg: ImportedMessage,
): Promise<ImportOutcome> {
  const blobKey = `${MESSAGE_PREFIX}import-${randomId(16)}`;
  const summary = new SummaryBuilder();
  const hash = createHash('sha256');
  async function* tapped(): AsyncGenerator<Buffer> {
    for await (const chunk of msg.body) {
      summary.write(chunk);
      hash.update(chunk);
      yield chunk;
    }
  }
  const { size } = await target.blobs.put(blobKey, Readable.from(tapped()));
  const built = boundSummary(summary.end());
  const flags = typeof msg.flags === 'function' ? msg.flags() : msg.flags;
  const [result] = await target.mail.appendAll(
    [
      {
        accountId: box.accountId,
        mailboxId: box.mailboxId,
        blobKey,
        blobSize: size,
        flags,
        internalDate: msg.internalDate ?? built.sentDate ?? Date.now(),
        summary: built,
        quotaBytes: target.account.quotaBytes,
      },
    ],
    { idempotencyKey: `import:${hash.digest('hex')}`, idempotencyTtlSeconds: IMPORT_KEY_TTL_SECONDS },
  );
  // A failed append leaves its blob to `blobs sweep`: the commit may have happened before the failure.
  if (!result.duplicate) return 'added';
  await target.blobs.delete(blobKey).catch(() => {});
  return 'duplicate';
}
