/**
 * The emulator's transport: nothing leaves the machine. Each message is kept as `<outbox>/<id>.eml`, its
 * envelope beside it as `<id>.json`, and every recipient gets 250, so a developer sees what would have been
 * sent (`npm run admin -- outbox list|show ID`). The directory is 0700 and the files 0600 (messages are
 * private mail); each file is written under a temporary name, synced and renamed, and the JSON goes last, so
 * a listing never shows a half-written message.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, open as openFile, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ulid } from '../../core/ids.ts';
import type { OutboundEnvelope, RecipientOutcome, Transport } from '../../core/outbound.ts';
import { ourReply, outcomesFor } from './replies.ts';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** Outbox ids are ULIDs; anything else given to `show` is refused (no path tricks). */
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** What `<id>.json` holds. */
export interface OutboxEnvelope {
  readonly id: string;
  readonly keptAt: string;
  readonly mailFrom: string;
  readonly domain: string;
  readonly recipients: readonly string[];
  readonly size: number;
  readonly eightBit?: boolean;
  readonly smtpUtf8?: boolean;
  readonly dsn?: OutboundEnvelope['dsn'];
}

export const outboxDir = (dataDir: string) => join(dataDir, 'outbox');
export const isOutboxId = (id: string) => ID.test(id);
export const messagePath = (dir: string, id: string) => join(dir, `${id}.eml`);
const envelopePath = (dir: string, id: string) => join(dir, `${id}.json`);

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Writes `path` through a temporary name: create 0600, fill, fsync, rename. */
async function writeAtomically(path: string, fill: (file: string) => Promise<void>): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    await fill(temp);
    await chmod(temp, FILE_MODE);
    const handle = await openFile(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export class OutboxTransport implements Transport {
  readonly name = 'outbox';

  constructor(
    readonly dir: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]> {
    const id = ulid();
    try {
      await ensureDir(this.dir);
      await writeAtomically(messagePath(this.dir, id), async (file) =>
        pipeline(await open(), createWriteStream(file, { flags: 'wx', mode: FILE_MODE })),
      );
      const kept: OutboxEnvelope = {
        id,
        keptAt: new Date(this.clock()).toISOString(),
        mailFrom: envelope.mailFrom,
        domain: envelope.domain,
        recipients: envelope.recipients,
        size,
        eightBit: envelope.eightBit,
        smtpUtf8: envelope.smtpUtf8,
        dsn: envelope.dsn,
      };
      await writeAtomically(envelopePath(this.dir, id), (file) =>
        writeFileNew(file, `${JSON.stringify(kept, null, 2)}\n`),
      );
    } catch (err) {
      await rm(messagePath(this.dir, id), { force: true });
      return outcomesFor(envelope.recipients, ourReply.internal(`outbox: ${(err as Error).message}`));
    }
    return outcomesFor(envelope.recipients, `250 2.0.0 Ok: kept in the outbox as ${id}`, 'outbox');
  }
}

async function writeFileNew(file: string, text: string): Promise<void> {
  const handle = await openFile(file, 'wx', FILE_MODE);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------- reading (admin outbox list|show)

/** Every kept message's envelope, oldest first; [] when the outbox does not exist yet. */
export async function listOutbox(dir: string): Promise<OutboxEnvelope[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names
    .filter((n) => n.endsWith('.json') && isOutboxId(n.slice(0, -5)))
    .map((n) => n.slice(0, -5))
    .sort();
  return Promise.all(ids.map((id) => readOutboxEnvelope(dir, id)));
}

/** One kept message's envelope (ENOENT when there is none with that id). */
export async function readOutboxEnvelope(dir: string, id: string): Promise<OutboxEnvelope> {
  return JSON.parse(await readFile(envelopePath(dir, id), 'utf8')) as OutboxEnvelope;
}
