/**
 * `admin import ACCOUNT --imap HOST USER`: copies a mailbox tree from another IMAP server (a migration).
 * Every selectable remote mailbox (or --mailbox NAME) goes to the local mailbox of the same name, levels
 * joined by `/`; a remote special-use mailbox (RFC 6154 \Sent \Drafts \Trash \Junk \Archive) goes to the
 * local mailbox with that use. Messages are read one at a time as streams (imapflow's download), with their
 * flags and INTERNALDATE, and stored like any import (importStore.ts).
 *
 * Resumable: a state file (0600, under the data directory) keeps per remote mailbox its UIDVALIDITY and
 * the last UID copied, written after every message; a re-run fetches only what is above it. A run killed
 * between a message's commit and the state write finds that message again and its idempotency key makes
 * the second copy a no-op, so every message lands once. A changed UIDVALIDITY starts the mailbox over
 * (the content keys still keep what was copied from being copied twice).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow, type ListResponse } from 'imapflow';
import { parseAddress } from '../core/address.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { HIERARCHY_DELIMITER } from '../core/mailboxNames.ts';
import type { MailboxState } from '../core/ports.ts';
import type { AdminStorage } from './commands.ts';
import { targetMailbox } from './importFiles.ts';
import { type ImportTarget, importMessage } from './importStore.ts';

export interface ImapSource {
  readonly host: string;
  readonly port?: number;
  /** 'tls': TLS from the start (port 993 by default); 'starttls': STARTTLS required (port 143). */
  readonly security: 'tls' | 'starttls';
  readonly user: string;
  readonly password: string;
  readonly mailbox?: string;
}

export interface ImapImportOptions {
  /** Directory of the state files (the data directory's imports/). */
  readonly stateDir: string;
  /** Called after each message is stored and before its progress is written (tests break in here). */
  readonly afterMessage?: (remotePath: string, uid: number) => void;
  /** Certificates to trust besides the system's (PEM): a test server's. */
  readonly ca?: string;
}

interface MailboxProgress {
  uidValidity: string;
  lastUid: number;
}

type ImportState = Record<string, MailboxProgress>;

const SPECIAL_USES = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

function stateFile(dir: string, account: string, src: ImapSource): string {
  const id = createHash('sha256')
    .update(JSON.stringify([account, src.host.toLowerCase(), src.port ?? null, src.user]))
    .digest('hex');
  return join(dir, `imap-${id.slice(0, 32)}.json`);
}

async function readState(file: string): Promise<ImportState> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? {} : (JSON.parse(text) as ImportState);
}

/** Written whole to a temporary file and renamed over the old one, so a kill leaves one or the other. */
async function writeState(file: string, state: ImportState): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The local name of a remote mailbox (undefined when it cannot be one: a level with our delimiter in it). */
function localName(entry: ListResponse, boxes: readonly MailboxState[]): string | undefined {
  if (entry.specialUse && SPECIAL_USES.has(entry.specialUse)) {
    const local = boxes.find((b) => b.specialUse === entry.specialUse);
    if (local) return local.name;
  }
  if (entry.path.toUpperCase() === 'INBOX') return 'INBOX';
  const levels = entry.delimiter ? entry.path.split(entry.delimiter) : [entry.path];
  if (levels.some((l) => l.includes(HIERARCHY_DELIMITER))) return undefined;
  return levels.join(HIERARCHY_DELIMITER);
}

async function copyMailbox(
  client: ImapFlow,
  target: ImportTarget,
  box: MailboxState,
  remotePath: string,
  progress: { state: ImportState; file: string; opts: ImapImportOptions },
): Promise<{ added: number; duplicate: number }> {
  const tally = { added: 0, duplicate: 0 };
  const lock = await client.getMailboxLock(remotePath, { readOnly: true });
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw new Error(`remote mailbox ${remotePath} not selected`);
    const uidValidity = String(mailbox.uidValidity);
    let done = progress.state[remotePath];
    if (!done || done.uidValidity !== uidValidity) done = { uidValidity, lastUid: 0 };
    progress.state[remotePath] = done;
    if (mailbox.exists === 0) return tally;
    // the list first (UIDs, flags, dates: small), then each message alone, as a stream
    const pending: { uid: number; flags: string[]; internalDate?: number }[] = [];
    for await (const m of client.fetch(
      `${done.lastUid + 1}:*`,
      { uid: true, flags: true, internalDate: true },
      { uid: true },
    )) {
      if (m.uid <= done.lastUid) continue; // `n:*` names the last message even when n is past it
      const date = m.internalDate instanceof Date ? m.internalDate.getTime() : undefined;
      const flags = [...(m.flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent'); // session state, not data
      pending.push({ uid: m.uid, flags, internalDate: date });
    }
    pending.sort((a, b) => a.uid - b.uid);
    for (const m of pending) {
      const download = await client.download(String(m.uid), undefined, { uid: true });
      if (download.content) {
        const body = download.content as AsyncIterable<Buffer>;
        tally[await importMessage(target, box, { body, flags: m.flags, internalDate: m.internalDate })]++;
      }
      progress.opts.afterMessage?.(remotePath, m.uid);
      done.lastUid = m.uid;
      await writeState(progress.file, progress.state);
    }
    return tally;
  } finally {
    lock.release();
  }
}

export async function importImap(
  storage: AdminStorage,
  address: string,
  src: ImapSource,
  opts: ImapImportOptions,
): Promise<string[]> {
  const account = await storage.directory.getAccountByAddress(parseAddress(address).address);
  if (!account) throw new NotFoundError(`unknown account ${address}`);
  const local = await storage.mail.ensureDefaultMailboxes(account.accountId);
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  const file = stateFile(opts.stateDir, account.address, src);
  const progress = { state: await readState(file), file, opts };
  const client = new ImapFlow({
    host: src.host,
    port: src.port ?? (src.security === 'tls' ? 993 : 143),
    secure: src.security === 'tls',
    doSTARTTLS: src.security === 'starttls' ? true : undefined,
    auth: { user: src.user, pass: src.password },
    logger: false,
    tls: { servername: src.host, ...(opts.ca ? { ca: opts.ca } : {}) },
  });
  client.on('error', () => {}); // a dropped connection fails the command in flight, which reports it
  await client.connect();
  const target: ImportTarget = { mail: storage.mail, blobs: storage.blobs, account };
  const lines: string[] = [];
  try {
    let remote = (await client.list()).filter((e) => !e.flags.has('\\Noselect') && !e.flags.has('\\NonExistent'));
    if (src.mailbox !== undefined) {
      remote = remote.filter((e) => e.path === src.mailbox);
      if (remote.length === 0) throw new NotFoundError(`no mailbox ${src.mailbox} on ${src.host}`);
    }
    for (const entry of remote) {
      const name = localName(entry, local);
      if (name === undefined) {
        lines.push(`${entry.path}: skipped (its name has a level with "/" in it)`);
        continue;
      }
      const box = await targetMailbox(storage, account, name);
      const tally = await copyMailbox(client, target, box, entry.path, progress);
      lines.push(`${entry.path} -> ${box.name}: ${tally.added} added, ${tally.duplicate} already there`);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return [...lines, `copied ${src.user}@${src.host} into ${account.address}`];
}

/** The password for --imap: the first line of --password-file, or of stdin with --password-stdin. */
export async function imapPassword(file: string | undefined, fromStdin: () => Promise<string>): Promise<string> {
  const password = file === undefined ? await fromStdin() : (await readFile(file, 'utf8')).split(/\r?\n/)[0];
  if (!password) throw new InvalidInputError('no password for the IMAP server (--password-file or --password-stdin)');
  return password;
}
