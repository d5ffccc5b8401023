/**
 * What an IMAP session needs from the rest of Postern: password checks, the account's mailboxes and
 * messages (the MailStore port, scoped by MailboxRef) and message octets (header prefix + blob, ranged).
 * The session never sees DynamoDB or S3.
 */
import type { Readable } from 'node:stream';
import type { Authenticator, AuthResult, Credentials } from '../auth/authenticator.ts';
import { NotFoundError } from '../core/errors.ts';
import { openMessage } from '../core/messageBody.ts';
import type { BlobStore, ByteRange, ChangeNotifier, MailStore, MessageMeta } from '../core/ports.ts';

/** The MailStore calls IMAP uses. */
export type ImapMailStore = Pick<
  MailStore,
  | 'ensureDefaultMailboxes'
  | 'createMailbox'
  | 'getMailbox'
  | 'getMailboxById'
  | 'listMailboxes'
  | 'renameMailbox'
  | 'deleteMailbox'
  | 'setSubscribed'
  | 'listDanglingSubscriptions'
  | 'listIndex'
  | 'listChangedSince'
  | 'getMessages'
  | 'updateFlags'
  | 'expunge'
  | 'changesSince'
  | 'copyMessages'
  | 'moveMessages'
  | 'getUsage'
  | 'appendAll'
  | 'forgetIdempotencyKey'
>;

/**
 * A message's octets are gone from the blob store: it was expunged (its last copy) after the session read
 * its index item. Not a NotFoundError, which the session reads as a missing mailbox (NONEXISTENT).
 */
export class MessageGoneError extends Error {
  constructor(readonly blobKey: string) {
    super(`message octets ${blobKey} are gone`);
    this.name = 'MessageGoneError';
  }
}

/** Opens the octets, telling a missing blob apart from other failures. */
async function openOctets(blobs: BlobStore, meta: MessageMeta, range?: ByteRange): Promise<Readable> {
  try {
    return await openMessage(blobs, meta, range);
  } catch (e) {
    if (e instanceof NotFoundError) throw new MessageGoneError(meta.blobKey);
    throw e;
  }
}

export interface ImapBackend {
  authenticate(credentials: Credentials): Promise<AuthResult>;
  readonly mail: ImapMailStore;
  /**
   * Streams the message's octets (all, or a range of them) as clients see them; never buffered whole.
   * MessageGoneError when the blob is gone.
   */
  openMessage(meta: MessageMeta, range?: ByteRange): Promise<Readable>;
  /** Stores an APPEND message's octets as they arrive. */
  putBlob(key: string, body: Readable): Promise<{ size: number }>;
  deleteBlob(key: string): Promise<void>;
  /** Change hints for IDLE; absent when nobody publishes. */
  readonly notifier?: ChangeNotifier;
}

export function createImapBackend(
  mail: ImapMailStore,
  blobs: BlobStore,
  authenticator: Authenticator,
  notifier?: ChangeNotifier,
): ImapBackend {
  return {
    authenticate: (credentials) => authenticator.authenticate(credentials),
    mail,
    openMessage: (meta, range) => openOctets(blobs, meta, range),
    putBlob: (key, body) => blobs.put(key, body, 'message/rfc822'),
    deleteBlob: (key) => blobs.delete(key),
    notifier,
  };
}
