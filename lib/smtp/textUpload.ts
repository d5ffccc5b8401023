/**
 * Streams the message text of one transaction into the blob store as it arrives, through DataPolicy
 * (smuggling, size, line and loop checks), our Received header first. Nothing is held whole in memory:
 * S3's pace holds the client back (backpressure), and the bytes buffered for the upload come out of the
 * process-wide body budget, so many large messages at once cannot exhaust the gateway's memory.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { ByteBudget } from '../core/byteBudget.ts';
import type { BlobStore } from '../core/ports.ts';
import type { DataPolicy, DataViolation } from './dataStream.ts';

export interface TextUploadDeps {
  readonly blobs: BlobStore;
  readonly budget: ByteBudget;
  /** Most bytes one upload can hold in memory (the blob store's parts in flight); reserved as they fill. */
  readonly perMessageBytes: number;
  /** How long an upload waits for budget before the transaction answers 451 4.3.1. */
  readonly budgetWaitMs: number;
}

/** The first reservation: most messages are smaller than this and never need the second. */
const FIRST_STEP = 256 * 1024;

export type UploadOutcome =
  | { readonly kind: 'stored'; readonly size: number }
  | { readonly kind: 'refused'; readonly violation: DataViolation }
  | { readonly kind: 'failed'; readonly err: unknown }
  | { readonly kind: 'busy' };

/**
 * Uploads `received` + the policed text to `key`; `tap` sees those bytes as they are stored. Throws when the
 * client's stream fails (the client went away); every other outcome is a value. Nothing is left behind in the blob store unless it was stored.
 */
export async function uploadText(
  deps: TextUploadDeps,
  text: Readable,
  key: string,
  received: string,
  policy: DataPolicy,
  tap?: (chunk: Buffer) => void,
): Promise<UploadOutcome> {
  const upload = new PassThrough({ highWaterMark: 64 * 1024 });
  let putError: unknown;
  let putSize = 0;
  const putDone = deps.blobs.put(key, upload).then(
    (r) => {
      putSize = r.size;
    },
    (err) => {
      putError = err ?? new Error('upload failed');
    },
  );
  const abort = async () => {
    if (!upload.destroyed) upload.destroy(new Error('message refused'));
    await putDone;
  };
  // Two steps, each all or nothing: a small first reservation, and the rest of perMessageBytes at once when
  // the text outgrows it. Reserving piecemeal would let many half-served uploads hold the whole budget while
  // each waits for more.
  let reserved = 0;
  let busy = false;
  const reserve = async (total: number) => {
    while (total > reserved && reserved < deps.perMessageBytes) {
      const step = reserved === 0 ? Math.min(FIRST_STEP, deps.perMessageBytes) : deps.perMessageBytes - reserved;
      if (!(await deps.budget.acquire(step, deps.budgetWaitMs))) return false;
      reserved += step;
    }
    return true;
  };
  let written = 0;
  const write = async (bufs: Buffer[]) => {
    for (const b of bufs) {
      if (putError !== undefined || upload.destroyed) return;
      written += b.length;
      if (!(await reserve(written))) {
        busy = true;
        return;
      }
      if (!upload.write(b)) {
        const ac = new AbortController();
        await Promise.race([once(upload, 'drain', { signal: ac.signal }).catch(() => {}), putDone]);
        ac.abort();
      }
    }
  };
  try {
    const first = Buffer.from(received);
    tap?.(first);
    await write([first]);
    try {
      for await (const chunk of text as AsyncIterable<Buffer>) {
        const out = policy.push(chunk);
        if (!policy.violation && !busy) {
          if (tap) for (const b of out) tap(b);
          await write(out);
        }
      }
    } catch (err) {
      await abort();
      throw err;
    }
    if (!policy.violation && !busy) {
      const rest = policy.end();
      if (tap) for (const b of rest) tap(b);
      await write(rest);
    }
    if (policy.violation || busy) {
      await abort();
      if (putError === undefined) void deps.blobs.delete(key).catch(() => {});
      return policy.violation ? { kind: 'refused', violation: policy.violation } : { kind: 'busy' };
    }
    upload.end();
    await putDone;
    return putError === undefined ? { kind: 'stored', size: putSize } : { kind: 'failed', err: putError };
  } finally {
    deps.budget.release(reserved);
  }
}
