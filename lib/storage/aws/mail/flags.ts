/**
 * STORE. Each chunk reads its messages, works out their new flag sets, and commits only the messages that
 * really change, each conditioned on the modseq it was read at (and the mailbox on its HIGHESTMODSEQ): a
 * concurrent change makes the commit fail and the chunk is read and applied again, so no change is lost
 * (DESIGN.md rule 4) and the unseen counter and keyword list move exactly with the flags.
 */
import { TemporaryError } from '../../../core/errors.ts';
import type {
  FlagOperation,
  FlagUpdate,
  FlagUpdateOptions,
  FlagUpdateResult,
  MailboxRef,
} from '../../../core/ports.ts';
import { backoff, type Item, temporary, toAttr } from '../dynamo.ts';
import { type MailContext, Transaction } from './context.ts';
import { readMessages } from './expunge.ts';
import { bumped, type MailboxBump, mailboxChange } from './items.ts';
import { ascendingUnique, chunks, DELETED, flagsOf, MAX_ATTEMPTS, SEEN, storedFlags } from './keys.ts';

/** Per transaction: the mailbox, the change record and one update per message. */
const FLAG_CHUNK = 90;

function applied(op: FlagOperation, current: ReadonlySet<string>, flags: readonly string[]): Set<string> {
  if (op === 'replace') return new Set(flags);
  const next = new Set(current);
  for (const f of flags) {
    if (op === 'add') next.add(f);
    else next.delete(f);
  }
  return next;
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((f) => b.has(f));

interface FlagChange {
  readonly item: Item;
  readonly before: ReadonlySet<string>;
  readonly after: Set<string>;
}

function flagWrite(ctx: MailContext, change: FlagChange, modseq: number) {
  const after = storedFlags(change.after);
  return {
    Update: {
      TableName: ctx.t.messages,
      Key: toAttr({ mailboxId: change.item.mailboxId, uid: change.item.uid }),
      UpdateExpression: after ? 'SET modseq = :m, flags = :f' : 'SET modseq = :m REMOVE flags',
      ConditionExpression: 'modseq = :read',
      ExpressionAttributeValues: toAttr({
        ':m': modseq,
        ':read': change.item.modseq,
        ...(after ? { ':f': after } : {}),
      }),
    },
  };
}

/** +1 for each message that loses \Seen, -1 for each that gains it. */
const unseenDelta = (changes: readonly FlagChange[]) =>
  changes.reduce((d, c) => d + (c.before.has(SEEN) ? 1 : 0) - (c.after.has(SEEN) ? 1 : 0), 0);

/** The \Deleted counters' change: +1 (and its size) for each message gaining \Deleted, -1 for each losing it. */
function deletedDelta(changes: readonly FlagChange[]): { deleted: number; deletedBytes: number } {
  let deleted = 0;
  let deletedBytes = 0;
  for (const c of changes) {
    const d = (c.after.has(DELETED) ? 1 : 0) - (c.before.has(DELETED) ? 1 : 0);
    deleted += d;
    deletedBytes += d * (c.item.size as number);
  }
  return { deleted, deletedBytes };
}

async function flagChunk(
  ctx: MailContext,
  ref: MailboxRef,
  uids: readonly number[],
  op: FlagOperation,
  flags: readonly string[],
  opts: FlagUpdateOptions,
): Promise<FlagUpdateResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const prev = await ctx.counters(ref);
    const present = await readMessages(ctx, ref, uids);
    const since = opts.unchangedSince;
    const isModified = (m: Item) => since !== undefined && (m.modseq as number) > since;
    const modified = present.filter(isModified).map((m) => m.uid as number);
    const changes = present
      .filter((m) => !isModified(m))
      .map((item) => {
        const before = new Set(flagsOf(item));
        return { item, before, after: applied(op, before, flags) };
      })
      .filter((c) => !sameSet(c.before, c.after));
    if (changes.length === 0) return { updated: [], modified };

    const bump: MailboxBump = {
      prev,
      unseen: unseenDelta(changes),
      ...deletedDelta(changes),
      flags: changes.flatMap((c) => [...c.after]),
    };
    const modseq = prev.highestModseq + 1;
    const changed = changes.map((c) => c.item.uid as number);
    const tx = new Transaction();
    mailboxChange(ctx, tx, ref, bump, 'flags', changed);
    for (const c of changes) tx.add('message', flagWrite(ctx, c, modseq));
    try {
      await ctx.commit(tx);
      ctx.remember(ref, bumped(bump));
      ctx.publish({
        type: 'messages',
        accountId: ref.accountId,
        change: { mailboxId: ref.mailboxId, modseq, kind: 'flags', uids: changed },
      });
      const updated: FlagUpdate[] = changes.map((c) => ({
        uid: c.item.uid as number,
        modseq,
        flags: [...c.after].sort(),
      }));
      return { updated, modified };
    } catch (err) {
      ctx.forget(ref);
      if (!tx.failure(err)) throw temporary('flag update failed', err);
      if (attempt > 0) await backoff(attempt); // the first failure may just be a stale hint
    }
  }
  throw new TemporaryError('flag update: too much contention');
}

export async function updateFlags(
  ctx: MailContext,
  ref: MailboxRef,
  uids: readonly number[],
  op: FlagOperation,
  input: readonly string[],
  opts: FlagUpdateOptions = {},
): Promise<FlagUpdateResult> {
  const flags = [...new Set(input)];
  if (flags.length === 0 && op !== 'replace') return { updated: [], modified: [] };
  const updated: FlagUpdate[] = [];
  const modified: number[] = [];
  for (const chunk of chunks(ascendingUnique(uids), FLAG_CHUNK)) {
    const result = await flagChunk(ctx, ref, chunk, op, flags, opts);
    updated.push(...result.updated);
    modified.push(...result.modified);
  }
  return { updated, modified };
}
