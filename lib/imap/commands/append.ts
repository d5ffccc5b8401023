/**
 * APPEND (RFC 9051 §6.3.12): the message was streamed into the blob store while its literal arrived (the
 * session's AppendUpload); here it joins the mailbox's index with its flags and date, and the answer
 * carries APPENDUID (RFC 4315 §3). Several messages (RFC 3502 MULTIAPPEND) commit together in one
 * transaction or not at all; a failure deletes every blob of the command. A literal8 message (RFC 3516
 * §4.4) is stored as sent: the store keeps any octets, NUL included. The same APPEND retried after the
 * client lost the answer makes no second copy (appendRetry.ts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { LimitExceededError, QuotaExceededError } from '../../core/errors.ts';
import { randomId } from '../../core/ids.ts';
import type { AppendInput } from '../../core/ports.ts';
import { MESSAGE_PREFIX } from '../../core/schema.ts';
import { boundSummary, summarizeBuffer } from '../../mime/summary.ts';
import { APPEND_RETRY_TTL_SECONDS, appendRetryKey } from '../appendRetry.ts';
import type { StoredUpload } from '../appendUpload.ts';
import { type AppendMessage, tagged } from '../codec/index.ts';
import { HeaderEightBitScan } from '../headerScan.ts';
import { type ImapSession, UTF8_APPEND_REFUSAL } from '../session.ts';
import { AUTHENTICATED, command } from './types.ts';

/** A small message sent as a collected literal (not streamed): stored from memory. */
async function inlineUpload(session: ImapSession, bytes: Buffer): Promise<StoredUpload> {
  const blobKey = `${MESSAGE_PREFIX}imap-${randomId(16)}`;
  const { size } = await session.backend.putBlob(blobKey, Readable.from([bytes]));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { blobKey, size, summary: boundSummary(summarizeBuffer(bytes)), sha256 };
}

/**
 * RFC 6855 §4: a UTF8=ACCEPT server refuses (NO) a message with 8-bit header octets unless the client enabled
 * UTF8=ACCEPT; IMAP4rev2 allows UTF-8 headers itself (RFC 9051 Appendix E item 16).
 */
function eightBitHeader(message: AppendMessage, upload: StoredUpload | Error | undefined): boolean {
  if (message.data.kind === 'inline') return HeaderEightBitScan.of(message.data.bytes);
  return upload !== undefined && !(upload instanceof Error) && upload.eightBitHeader === true;
}

/** Every message's stored octets, or the reason one is missing. */
async function storedMessages(
  session: ImapSession,
  messages: readonly AppendMessage[],
  uploads: (StoredUpload | Error | undefined)[],
): Promise<StoredUpload[] | Error> {
  const out: StoredUpload[] = [];
  for (const [i, message] of messages.entries()) {
    if (message.data.kind === 'inline') uploads[i] = await inlineUpload(session, message.data.bytes);
    const stored = uploads[i];
    if (!stored) return new Error('message data was lost');
    if (stored instanceof Error) return stored;
    out.push(stored);
  }
  return out;
}

export default command({
  names: ['APPEND'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    const refusal = session.takeAppendRefusal();
    const uploads = cmd.messages.map((m) => (m.data.kind === 'streamed' ? session.takeUpload(m.data.seq) : undefined));
    const discard = () => {
      for (const u of uploads)
        if (u && !(u instanceof Error)) void session.backend.deleteBlob(u.blobKey).catch(() => {});
    };
    if (refusal) {
      discard();
      return session.fail(cmd.tag, 'NO', refusal.text, refusal.code);
    }
    if (cmd.messages.some((m) => m.utf8) && !session.utf8Accept) {
      discard();
      return session.fail(cmd.tag, 'BAD', UTF8_APPEND_REFUSAL, { code: 'CLIENTBUG' });
    }
    if (!session.writeOptions.utf8 && cmd.messages.some((m, i) => eightBitHeader(m, uploads[i]))) {
      discard();
      return session.fail(cmd.tag, 'NO', '8-bit octets in the header need ENABLE UTF8=ACCEPT');
    }
    const account = session.account!;
    const box = await session.backend.mail.getMailbox(account.accountId, cmd.mailbox);
    if (!box) {
      discard();
      return session.fail(cmd.tag, 'NO', 'no such mailbox', { code: 'TRYCREATE' });
    }
    let stored: StoredUpload[] | Error;
    try {
      stored = await storedMessages(session, cmd.messages, uploads);
    } catch (e) {
      stored = e instanceof Error ? e : new Error(String(e));
    }
    if (stored instanceof Error) {
      session.log.warn('imap append upload failed', { err: stored });
      discard();
      return session.refuse(cmd.tag, 'storage is unavailable, try again later', { code: 'UNAVAILABLE' });
    }
    const now = Date.now();
    const sent = stored.map((s, i) => ({
      sha256: s.sha256,
      flags: cmd.messages[i].flags.filter((f) => f.toLowerCase() !== '\\recent'),
      internalDate: cmd.messages[i].internalDate?.date.getTime(),
    }));
    const inputs: AppendInput[] = stored.map((s, i) => ({
      accountId: account.accountId,
      mailboxId: box.mailboxId,
      blobKey: s.blobKey,
      blobSize: s.size,
      flags: sent[i].flags,
      internalDate: sent[i].internalDate ?? now,
      summary: s.summary,
      quotaBytes: account.quotaBytes,
    }));
    // appendRetry.ts: the same APPEND again after a lost answer returns the first copy's UIDs
    const idempotencyKey = appendRetryKey(sent);
    try {
      const results = await session.backend.mail.appendAll(inputs, {
        idempotencyKey,
        idempotencyTtlSeconds: APPEND_RETRY_TTL_SECONDS,
      });
      if (results[0].duplicate) {
        session.log.info('imap append retried: the first copy stands', { uid: results[0].uid });
        discard();
      }
      const uids = results.map((r) => r.uid);
      const uidValidity = results[0].uidValidity;
      session.send(tagged(cmd.tag, 'OK', 'APPEND completed', { code: 'APPENDUID', uidValidity, uids }));
      session.appendReceipts.answeredAppend({ accountId: account.accountId, mailboxId: box.mailboxId }, idempotencyKey);
    } catch (e) {
      discard();
      if (e instanceof QuotaExceededError) return session.refuse(cmd.tag, 'over quota', { code: 'OVERQUOTA' });
      if (e instanceof LimitExceededError) return session.fail(cmd.tag, 'NO', e.message, { code: 'LIMIT' });
      throw e;
    }
  },
});
