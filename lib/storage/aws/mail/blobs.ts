/**
 * Blob lifetime. Every transaction that adds or removes index items moves the per-account reference counts
 * of their blobs in the same commit (items.ts blobRefUpdate), so a blob whose counts are all zero is
 * referenced by no index item at all. Deleting it afterwards is then safe against copies: a copy needs a
 * source item, and its transaction checks that item. What it is not safe against is a delivery still
 * retrying (it may add the first copy for another recipient), hence the grace period from the first
 * reference. Order: the S3 object goes first, its count items after, so a crash leaves garbage (found by
 * the sweep), never an index item without its blob.
 */

import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { InvalidInputError } from '../../../core/errors.ts';
import type { BlobCandidate, SweepResult } from '../../../core/ports.ts';
import { type Item, isConditionFailure, toAttr } from '../dynamo.ts';
import type { MailContext } from './context.ts';
import { blobPartition } from './keys.ts';

const RELEASE_CONCURRENCY = 8;

async function refItems(ctx: MailContext, blobKey: string): Promise<Item[]> {
  return ctx.query(
    {
      TableName: ctx.t.mailboxes,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: toAttr({ ':p': blobPartition(blobKey) }),
      ConsistentRead: true,
    },
    'blob references',
  );
}

/** Zero for every account. A negative count would be a bug: treat it as a reference and keep the blob. */
const unreferenced = (items: readonly Item[]) => items.every((i) => ((i.refs as number | undefined) ?? 0) === 0);

/** When the blob was first referenced (-Infinity when never: nothing to wait for). */
const firstReference = (items: readonly Item[]) =>
  items.length === 0
    ? Number.NEGATIVE_INFINITY
    : Math.min(...items.map((i) => (i.since as number | undefined) ?? Number.NEGATIVE_INFINITY));

async function deleteBlob(ctx: MailContext, blobKey: string, items: readonly Item[]): Promise<void> {
  await ctx.opts.blobs!.delete(blobKey);
  for (const item of items) {
    try {
      await ctx.db.send(
        new DeleteItemCommand({
          TableName: ctx.t.mailboxes,
          Key: toAttr({ pk: item.pk, sk: item.sk }),
          ConditionExpression: 'attribute_not_exists(refs) OR refs = :zero',
          ExpressionAttributeValues: toAttr({ ':zero': 0 }),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}

/** After a commit that lowered these blobs' counts: deletes those now unreferenced and past the grace. */
export async function releaseBlobs(ctx: MailContext, blobKeys: Iterable<string>): Promise<void> {
  if (!ctx.opts.blobs) return;
  const queue = [...new Set(blobKeys)];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      try {
        const items = await refItems(ctx, key);
        if (items.length === 0 || !unreferenced(items) || ctx.now() - firstReference(items) < ctx.blobGraceMs) continue;
        await deleteBlob(ctx, key, items);
      } catch (err) {
        // the change itself committed; the sweep finds this blob later
        ctx.opts.log?.warn('blob release failed', { err, blobKey: key });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RELEASE_CONCURRENCY, queue.length) }, worker));
}

export async function sweepBlobs(
  ctx: MailContext,
  candidates: Iterable<BlobCandidate> | AsyncIterable<BlobCandidate>,
): Promise<SweepResult> {
  if (!ctx.opts.blobs) throw new InvalidInputError('sweeping blobs needs the blob store');
  const deleted: string[] = [];
  let kept = 0;
  for await (const candidate of candidates) {
    if (ctx.now() - candidate.lastModified < ctx.blobGraceMs) {
      kept++;
      continue;
    }
    const items = await refItems(ctx, candidate.key);
    if (!unreferenced(items) || ctx.now() - firstReference(items) < ctx.blobGraceMs) {
      kept++;
      continue;
    }
    await deleteBlob(ctx, candidate.key, items);
    deleted.push(candidate.key);
  }
  return { deleted, kept };
}
