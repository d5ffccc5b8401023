/**
 * `admin outbox list|show ID`: what the emulator's outbox transport kept instead of sending
 * (lib/outbound/transports/outbox.ts). Local only: a deployment sends through SES, a smarthost or MX.
 * Message text is untrusted: control characters are shown escaped, never sent to the terminal as they are.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import {
  isOutboxId,
  listOutbox,
  messagePath,
  type OutboxEnvelope,
  outboxDir,
  readOutboxEnvelope,
} from '../outbound/transports/outbox.ts';
import type { ParsedArgs } from './args.ts';

/** `show` prints at most this much of a message; the rest is in the file it names. */
const SHOW_LIMIT = 1024 * 1024;
/** Where list looks for the Subject. */
const HEAD_LIMIT = 64 * 1024;

/** The emulator's outbox, under POSTERN_DATA_DIR (default .data, as local/state.ts finds it); never with --aws. */
export function outboxDirOf(args: ParsedArgs, env: NodeJS.ProcessEnv): string {
  if (args.switches.has('aws')) throw new InvalidInputError("the outbox is the local emulator's; a deployment sends");
  return outboxDir(resolve(env.POSTERN_DATA_DIR || '.data'));
}

/** C0 and C1 control characters (but tab) as \xNN, so a message cannot drive the terminal. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

async function readStart(path: string, limit: number): Promise<{ text: string; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size, limit));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), size };
  } finally {
    await handle.close();
  }
}

/** The Subject field of a header section (unfolded), '' when there is none. */
export function subjectOf(message: string): string {
  const end = message.search(/\r?\n\r?\n/);
  const header = (end < 0 ? message : message.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  return /^subject:[ \t]*(.*)$/im.exec(header)?.[1].trim() ?? '';
}

const sender = (e: OutboxEnvelope) => (e.mailFrom === '' ? '<>' : e.mailFrom);

export async function outboxList(dir: string): Promise<string[]> {
  const entries = await listOutbox(dir);
  if (entries.length === 0) return [`the outbox is empty (${dir})`];
  const lines = [];
  for (const e of entries) {
    const { text } = await readStart(messagePath(dir, e.id), HEAD_LIMIT);
    lines.push(
      printable(
        `${e.id}  ${e.keptAt}  ${sender(e)} -> ${e.recipients.join(', ')}  ${e.size} bytes  ${subjectOf(text) || '(no subject)'}`,
      ),
    );
  }
  return lines;
}

export async function outboxShow(dir: string, id: string): Promise<string[]> {
  if (!isOutboxId(id)) throw new InvalidInputError(`not an outbox id: ${printable(id)}`);
  let e: OutboxEnvelope;
  try {
    e = await readOutboxEnvelope(dir, id);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no message ${id} in the outbox`);
    throw err;
  }
  const path = messagePath(dir, id);
  const { text, size } = await readStart(path, SHOW_LIMIT);
  const dsn = e.dsn ? [`dsn: ${JSON.stringify(e.dsn)}`] : [];
  const cut = size > SHOW_LIMIT ? [`[... ${size - SHOW_LIMIT} more bytes in ${path}]`] : [];
  const head = [`id: ${e.id}`, `kept: ${e.keptAt}`, `from: ${sender(e)}`, `to: ${e.recipients.join(', ')}`, ...dsn];
  return [...head.map(printable), `file: ${path}`, '', ...text.split(/\r?\n/).map(printable), ...cut];
}
