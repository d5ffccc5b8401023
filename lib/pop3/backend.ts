/**
 * What a POP3 session needs from the rest of Postern, and its implementation over the storage ports. The
 * session never sees DynamoDB or S3: it authenticates, opens the maildrop (INBOX, under a lease), streams
 * messages, and commits deletions at QUIT.
 */
import type { Readable } from 'node:stream';
import type { Authenticator, AuthResult, Credentials } from '../auth/authenticator.ts';
import { PosternError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { openMessage } from '../core/messageBody.ts';
import type { Account, MessageMeta, Storage } from '../core/ports.ts';

/** One message of the maildrop as POP3 shows it; numbers are 1..n of the listing taken at login. */
export interface Pop3Message {
  readonly number: number;
  readonly uid: number;
  /** Octets of the message as RETR sends it, before dot-stuffing (header prefix + blob). */
  readonly size: number;
  /** RFC 1939 §7 unique-id: `uidValidity.uid` of INBOX, the same message IMAP shows under that UID. */
  readonly uidl: string;
}

/** The lease on the maildrop was lost (it expired and another session took it): nothing may be deleted. */
export class LeaseLostError extends PosternError {
  constructor() {
    super('maildrop lock lost', 'lease-lost');
  }
}

export interface Maildrop {
  readonly accountId: string;
  readonly messages: readonly Pop3Message[];
  /** Streams the message (header prefix + blob) from the store; never buffered whole. */
  open(message: Pop3Message): Promise<Readable>;
  /** Whether the lease is still held, as far as the renewals so far tell. */
  readonly leaseLost: boolean;
  /**
   * The UPDATE state (RFC 1939 §6): when there is anything to remove, checks the lease is still ours, then
   * removes the given messages. Throws LeaseLostError (nothing removed) or a TemporaryError.
   */
  commit(numbers: readonly number[]): Promise<{ removed: number }>;
  /** Releases the lease; safe to call more than once. Never throws. */
  release(): Promise<void>;
}

export type OpenResult =
  | { readonly ok: true; readonly maildrop: Maildrop }
  | { readonly ok: false; readonly reason: 'in-use' };

export interface Pop3Backend {
  authenticate(credentials: Credentials): Promise<AuthResult>;
  /** Takes the maildrop lock of the account (RFC 1939 §8) and lists INBOX. */
  openMaildrop(account: Account, session: { cid: string; log: Logger }): Promise<OpenResult>;
}

export interface StorageBackendOptions {
  /** Lease time to live; the lease is renewed every third of it while the session lives. */
  readonly leaseMs: number;
}

/** The lease key of an account's POP3 maildrop: one per account, shared by every gateway task. */
export const maildropLeaseKey = (accountId: string) => `pop3:${accountId}`;

export function createStorageBackend(
  storage: Storage,
  authenticator: Authenticator,
  opts: StorageBackendOptions,
): Pop3Backend {
  const instance = randomId(6); // tells this gateway process apart in lease owners
  return {
    authenticate: (credentials) => authenticator.authenticate(credentials),

    async openMaildrop(account, { cid, log }) {
      const key = maildropLeaseKey(account.accountId);
      const owner = `${instance}:${cid}:${randomId(6)}`;
      if (!(await storage.leases.acquire(key, owner, opts.leaseMs))) return { ok: false, reason: 'in-use' };
      let metas: MessageMeta[];
      let mailboxId: string;
      let uidValidity: number;
      try {
        const inbox =
          (await storage.mail.getMailbox(account.accountId, 'INBOX')) ??
          (await storage.mail.ensureDefaultMailboxes(account.accountId)).find((m) => m.name === 'INBOX');
        if (!inbox) throw new Error('account has no INBOX');
        mailboxId = inbox.mailboxId;
        uidValidity = inbox.uidValidity;
        metas = await storage.mail.listMessages({ accountId: account.accountId, mailboxId }, { projection: 'light' });
      } catch (err) {
        await storage.leases.release(key, owner).catch(() => {});
        throw err;
      }

      const byNumber = new Map<number, MessageMeta>();
      const messages = metas.map((meta, i) => {
        byNumber.set(i + 1, meta);
        return { number: i + 1, uid: meta.uid, size: meta.size, uidl: `${uidValidity}.${meta.uid}` };
      });

      let lost = false;
      let released = false;
      const renew = async (): Promise<boolean> => {
        if (lost) return false;
        if (!(await storage.leases.renew(key, owner, opts.leaseMs))) {
          lost = true;
          log.warn('pop3 maildrop lease lost', { accountId: account.accountId });
        }
        return !lost;
      };
      const timer = setInterval(
        () => {
          renew().catch((err) => log.warn('pop3 maildrop lease renewal failed', { err }));
        },
        Math.max(10, Math.floor(opts.leaseMs / 3)),
      );
      timer.unref();

      const maildrop: Maildrop = {
        accountId: account.accountId,
        messages,
        get leaseLost() {
          return lost;
        },
        open: (message) => openMessage(storage.blobs, byNumber.get(message.number)!),
        async commit(numbers) {
          const uids = numbers.map((n) => byNumber.get(n)?.uid).filter((u): u is number => u !== undefined);
          // Nothing to delete (download-and-keep): nothing the lease must protect, so no DynamoDB write.
          if (uids.length === 0) return { removed: 0 };
          // Renew right before deleting: it fails when another session took the maildrop after our lease
          // expired. A fresh lease then covers the expunge, which takes far less than its time to live.
          if (!(await renew())) throw new LeaseLostError();
          const removed = await storage.mail.expunge({ accountId: account.accountId, mailboxId }, uids);
          return { removed: removed.length };
        },
        async release() {
          if (released) return;
          released = true;
          clearInterval(timer);
          if (lost) return;
          try {
            await storage.leases.release(key, owner);
          } catch (err) {
            log.warn('pop3 maildrop lease release failed; it expires by itself', { err });
          }
        },
      };
      return { ok: true, maildrop };
    },
  };
}
