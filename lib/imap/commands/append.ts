/**
 * APPEND (RFC 9051 §6.3.12): the message was streamed into the blob store while its literal arrived (the
 * session's AppendUpload); here it joins the mailbox's index with its flags and date, and the answer
 * carries APPENDUID (RFC 4315 §3). Several messages (RFC 3502 form) are appended one after another.
 */
import { Readable } from 'node:stream';
import { QuotaExceededError } from '../../core/errors.ts';
import { randomId } from '../../core/ids.ts';
import { MESSAGE_PREFIX } from '../../core/schema.ts';
import { boundSummary, summarizeBuffer } from '../../mime/summary.ts';
import type { StoredUpload } from '../appendUpload.ts';
import { type AppendMessage, tagged } from '../codec/index.ts';
import { HeaderEightBitScan } from '../headerScan.ts';
import { type ImapSession, UTF8_APPEND_REFUSAL } from '../session.ts';
import { AUTHENTICATED, command } from './types.ts';

/** A small message sent as a collected literal (not streamed): stored from memory. */
async function inlineUpload(session: ImapSession, bytes: Buffer): Promise<StoredUpload> {
  const blobKey = `${MESSAGE_PREFIX}imap-${randomId(16)}`;
  const { size } = await session.backend.putBlob(blobKey, Readable.from([bytes]));
  return { blobKey, size, summary: boundSummary(summarizeBuffer(bytes)) };
}

/**
 * RFC 6855 §4: a UTF8=ACCEPT server refuses (NO) a message with 8-bit header octets unless the client enabled
 * UTF8=ACCEPT; IMAP4rev2 allows UTF-8 headers itself (RFC 9051 Appendix E item 16).
 */
function eightBitHeader(message: AppendMessage, upload: StoredUpload | Error | undefined): boolean {
  if (message.data.kind === 'inline') return HeaderEightBitScan.of(message.data.bytes);
  return upload !== undefined && !(upload instanceof Error) && upload.eightBitHeader === true;
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
    const uids: number[] = [];
    let uidValidity = box.uidValidity;
    for (const [i, message] of cmd.messages.entries()) {
      let stored = uploads[i];
      if (message.data.kind === 'inline') stored = await inlineUpload(session, message.data.bytes);
      if (!stored) return session.refuse(cmd.tag, 'message data was lost', { code: 'SERVERBUG' });
      if (stored instanceof Error) {
        session.log.warn('imap append upload failed', { err: stored });
        discard();
        return session.refuse(cmd.tag, 'storage is unavailable, try again later', { code: 'UNAVAILABLE' });
      }
      try {
        const r = await session.backend.mail.append({
          accountId: account.accountId,
          mailboxId: box.mailboxId,
          blobKey: stored.blobKey,
          blobSize: stored.size,
          flags: message.flags.filter((f) => f.toLowerCase() !== '\\recent'),
          internalDate: message.internalDate?.date.getTime() ?? Date.now(),
          summary: stored.summary,
          quotaBytes: account.quotaBytes,
        });
        uids.push(r.uid);
        uidValidity = r.uidValidity;
      } catch (e) {
        void session.backend.deleteBlob(stored.blobKey).catch(() => {});
        if (e instanceof QuotaExceededError) return session.refuse(cmd.tag, 'over quota', { code: 'OVERQUOTA' });
        throw e;
      }
    }
    session.send(tagged(cmd.tag, 'OK', 'APPEND completed', { code: 'APPENDUID', uidValidity, uids }));
  },
});
