/**
 * The mail index on DynamoDB: the MailStore port, put together from lib/storage/aws/mail/.
 *
 * Every change to a mailbox (append, flags, expunge, copy, move) is one TransactWriteItems that bumps the
 * mailbox item's HIGHESTMODSEQ under a condition on the value it started from (optimistic concurrency) and
 * writes the message items, one change record at the new modseq, the account's usage and the blobs'
 * reference counts. Appends also condition on UIDNEXT: the transaction that makes UID n visible is
 * conditioned on the commit of n-1, so UIDs become visible in ascending order (DESIGN.md rule 3). Message
 * updates are conditioned on the modseq they were read at, so concurrent flag changes are never lost
 * (rule 4). After each commit the notifier, if any, is told.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  AppendInput,
  AppendResult,
  AtomicAppendOptions,
  BlobCandidate,
  CopyOptions,
  FlagOperation,
  FlagUpdateOptions,
  ListOptions,
  MailboxRef,
  MailStore,
  MoveOptions,
  Usage,
} from '../../core/ports.ts';
import type { StorageNames } from '../../core/schema.ts';
import { appendAll, appendMany, forgetIdempotencyKey } from './mail/append.ts';
import { sweepBlobs } from './mail/blobs.ts';
import { MailContext, type MailStoreOptions } from './mail/context.ts';
import { expunge } from './mail/expunge.ts';
import { updateFlags } from './mail/flags.ts';
import { usageKey } from './mail/keys.ts';
import * as mailboxes from './mail/mailboxes.ts';
import * as reads from './mail/reads.ts';
import { copyMessages, moveMessages } from './mail/transfer.ts';

export type { MailStoreOptions } from './mail/context.ts';

export class DynamoMailStore implements MailStore {
  private readonly ctx: MailContext;

  constructor(db: DynamoDBClient, names: StorageNames, opts: MailStoreOptions = {}) {
    this.ctx = new MailContext(db, names, opts);
  }

  // ------------------------------------------------------------ mailboxes

  ensureDefaultMailboxes(accountId: string) {
    return mailboxes.ensureDefaultMailboxes(this.ctx, accountId);
  }
  createMailbox(accountId: string, name: string, opts?: { specialUse?: string; subscribed?: boolean }) {
    return mailboxes.createMailbox(this.ctx, accountId, name, opts);
  }
  getMailbox(accountId: string, name: string) {
    return mailboxes.getMailbox(this.ctx, accountId, name);
  }
  getMailboxById(accountId: string, mailboxId: string) {
    return this.ctx.readMailbox({ accountId, mailboxId });
  }
  listMailboxes(accountId: string) {
    return mailboxes.listMailboxes(this.ctx, accountId);
  }
  renameMailbox(accountId: string, from: string, to: string) {
    return mailboxes.renameMailbox(this.ctx, accountId, from, to);
  }
  deleteMailbox(accountId: string, name: string) {
    return mailboxes.deleteMailbox(this.ctx, accountId, name);
  }
  setSubscribed(accountId: string, name: string, subscribed: boolean) {
    return mailboxes.setSubscribed(this.ctx, accountId, name, subscribed);
  }
  listDanglingSubscriptions(accountId: string) {
    return mailboxes.listDanglingSubscriptions(this.ctx, accountId);
  }
  deleteAccountMail(accountId: string) {
    return mailboxes.deleteAccountMail(this.ctx, accountId);
  }
  async getUsage(accountId: string): Promise<Usage> {
    const item = await this.ctx.getItem(this.ctx.t.mailboxes, usageKey(accountId), 'usage');
    return { bytes: (item?.bytes as number) ?? 0, messages: (item?.messages as number) ?? 0 };
  }

  // ------------------------------------------------------------ messages

  async append(input: AppendInput): Promise<AppendResult> {
    const [result] = await this.appendMany([input]);
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }
  appendMany(inputs: readonly AppendInput[]) {
    return appendMany(this.ctx, inputs);
  }
  appendAll(inputs: readonly AppendInput[], opts?: AtomicAppendOptions) {
    return appendAll(this.ctx, inputs, opts);
  }
  forgetIdempotencyKey(ref: MailboxRef, key: string) {
    return forgetIdempotencyKey(this.ctx, ref, key);
  }
  getMessage(ref: MailboxRef, uid: number) {
    return reads.getMessage(this.ctx, ref, uid);
  }
  getMessages(ref: MailboxRef, uids: readonly number[]) {
    return reads.getMessages(this.ctx, ref, uids);
  }
  listMessages(ref: MailboxRef, opts?: ListOptions) {
    return reads.listMessages(this.ctx, ref, opts);
  }
  listIndex(ref: MailboxRef) {
    return reads.listIndex(this.ctx, ref);
  }
  listChangedSince(ref: MailboxRef, modseq: number) {
    return reads.listChangedSince(this.ctx, ref, modseq);
  }
  changesSince(ref: MailboxRef, modseq: number) {
    return reads.changesSince(this.ctx, ref, modseq);
  }
  updateFlags(
    ref: MailboxRef,
    uids: readonly number[],
    op: FlagOperation,
    flags: readonly string[],
    opts?: FlagUpdateOptions,
  ) {
    return updateFlags(this.ctx, ref, uids, op, flags, opts);
  }
  expunge(ref: MailboxRef, uids: readonly number[]) {
    return expunge(this.ctx, ref, uids);
  }
  copyMessages(from: MailboxRef, uids: readonly number[], to: MailboxRef, opts?: CopyOptions) {
    return copyMessages(this.ctx, from, uids, to, opts);
  }
  moveMessages(from: MailboxRef, uids: readonly number[], to: MailboxRef, opts?: MoveOptions) {
    return moveMessages(this.ctx, from, uids, to, opts);
  }
  sweepBlobs(candidates: Iterable<BlobCandidate> | AsyncIterable<BlobCandidate>) {
    return sweepBlobs(this.ctx, candidates);
  }
}
