/**
 * One APPEND message on its way into the blob store: the reader's literal chunks are written to an upload
 * stream as they arrive (the blob store's pace holds the client back) and to a SummaryBuilder, so the
 * message is never held whole and its summary and SHA-256 need no second read.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { randomId } from '../core/ids.ts';
import type { MailboxState } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import { boundSummary, type MessageSummary, SummaryBuilder } from '../mime/summary.ts';
import type { ImapBackend } from './backend.ts';
import type { AppendHead } from './codec/index.ts';
import { HeaderEightBitScan } from './headerScan.ts';

export interface StoredUpload {
  readonly blobKey: string;
  readonly size: number;
  readonly summary: MessageSummary;
  /** SHA-256 of the octets (hex): what makes a retried APPEND recognisable (appendRetry.ts). */
  readonly sha256: string;
  /** 8-bit octets in the header (RFC 6855 §4), for a streamed message. */
  readonly eightBitHeader?: boolean;
}

export class AppendUpload {
  readonly blobKey = `${MESSAGE_PREFIX}imap-${randomId(16)}`;
  private readonly stream = new PassThrough();
  private readonly summary = new SummaryBuilder();
  private readonly headerScan = new HeaderEightBitScan();
  private readonly hash = createHash('sha256');
  private readonly stored: Promise<{ size: number }>;
  private failure: unknown;

  constructor(
    private readonly backend: ImapBackend,
    readonly mailbox: MailboxState,
    readonly head: AppendHead,
  ) {
    this.stored = backend.putBlob(this.blobKey, this.stream);
    // An upload that fails is answered when the command completes; until then its rejection is held here.
    this.stored.catch((e) => {
      this.failure = e;
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) return;
    this.summary.write(chunk);
    this.headerScan.write(chunk);
    this.hash.update(chunk);
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), this.stored.catch(() => {})]);
  }

  /** The literal ended: waits for the blob to be stored. Throws what the upload failed with. */
  async finish(): Promise<StoredUpload> {
    this.stream.end();
    const { size } = await this.stored;
    const summary = boundSummary(this.summary.end());
    const sha256 = this.hash.digest('hex');
    return { blobKey: this.blobKey, size, summary, sha256, eightBitHeader: this.headerScan.found };
  }

  /** The connection went away or the command failed: the upload stops and its blob goes. */
  abort(): void {
    this.stream.destroy();
    void this.backend.deleteBlob(this.blobKey).catch(() => {});
  }
}
