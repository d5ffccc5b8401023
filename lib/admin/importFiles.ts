/**
 * `admin import ACCOUNT PATH [--format mbox|maildir] [--mailbox NAME]`: mail files back into an account.
 * PATH is an mbox file (into --mailbox, default INBOX), a tree of mbox files as export writes it, or a
 * Maildir++ root (a directory with cur/); --format only confirms what PATH is. Missing mailboxes are
 * created; flags, keywords and INTERNALDATE are restored (mbox: the From_ line's date; Maildir: the mtime);
 * each message is stored once (importStore.ts), so a re-run adds only what is new.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAddress } from '../core/address.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { normalizeMailboxName } from '../core/mailboxNames.ts';
import type { Account, MailboxState } from '../core/ports.ts';
import { linePieces, toCrlf } from '../mailboxFormats/lines.ts';
import { marksFromFileName, parseDovecotKeywords } from '../mailboxFormats/maildir.ts';
import { flagsOf } from '../mailboxFormats/marks.ts';
import { readMbox } from '../mailboxFormats/mbox.ts';
import type { AdminStorage } from './commands.ts';
import type { MailFormat } from './exportMail.ts';
import { type ImportTarget, importMessage } from './importStore.ts';
import { existsPath, isDirectory, maildirTree, mboxTree, type SourceMailbox } from './mailFiles.ts';

export interface ImportFileOptions {
  readonly format?: MailFormat;
  readonly mailbox?: string;
}

interface Tally {
  added: number;
  duplicate: number;
}

/** The account's mailbox of that name, created when missing. */
export async function targetMailbox(storage: AdminStorage, account: Account, name: string): Promise<MailboxState> {
  const normal = normalizeMailboxName(name);
  return (
    (await storage.mail.getMailbox(account.accountId, normal)) ??
    (await storage.mail.createMailbox(account.accountId, normal))
  );
}

async function importMboxFile(target: ImportTarget, box: MailboxState, file: string, tally: Tally): Promise<void> {
  for await (const msg of readMbox(createReadStream(file))) {
    tally[
      await importMessage(target, box, {
        body: msg.body,
        flags: () => flagsOf(msg.marks()),
        internalDate: msg.internalDate,
      })
    ]++;
  }
}

async function importMaildir(target: ImportTarget, box: MailboxState, dir: string, tally: Tally): Promise<void> {
  const keywords = parseDovecotKeywords(await readFile(join(dir, 'dovecot-keywords'), 'utf8').catch(() => ''));
  const files: { path: string; name: string; mtime: number }[] = [];
  for (const sub of ['cur', 'new']) {
    for (const name of await readdir(join(dir, sub)).catch(() => [] as string[])) {
      if (name.startsWith('.')) continue;
      const path = join(dir, sub, name);
      const s = await stat(path);
      if (s.isFile()) files.push({ path, name: sub === 'cur' ? name : '', mtime: s.mtimeMs });
    }
  }
  files.sort((a, b) => a.mtime - b.mtime || (a.path < b.path ? -1 : 1));
  for (const f of files) {
    const body = async function* () {
      for await (const piece of linePieces(createReadStream(f.path))) yield toCrlf(piece);
    };
    const flags = flagsOf(marksFromFileName(f.name, keywords));
    tally[await importMessage(target, box, { body: body(), flags, internalDate: Math.round(f.mtime) })]++;
  }
}

async function sourcesOf(
  path: string,
  opts: ImportFileOptions,
): Promise<{ format: MailFormat; boxes: SourceMailbox[] }> {
  if (!(await existsPath(path))) throw new NotFoundError(`${path} does not exist`);
  let format: MailFormat;
  let boxes: SourceMailbox[];
  if (!(await isDirectory(path))) {
    format = 'mbox';
    boxes = [{ name: opts.mailbox ?? 'INBOX', path }];
  } else if (await existsPath(join(path, 'cur'))) {
    format = 'maildir';
    boxes = await maildirTree(path);
  } else {
    format = 'mbox';
    boxes = await mboxTree(path);
  }
  if (opts.format !== undefined && opts.format !== format) throw new InvalidInputError(`${path} is not ${opts.format}`);
  if (opts.mailbox !== undefined && boxes.length > 1) {
    boxes = boxes.filter((b) => b.name === opts.mailbox);
    if (boxes.length === 0) throw new NotFoundError(`no mailbox ${opts.mailbox} in ${path}`);
  }
  return { format, boxes };
}

export async function importFiles(
  storage: AdminStorage,
  address: string,
  path: string,
  opts: ImportFileOptions,
): Promise<string[]> {
  const { format, boxes } = await sourcesOf(path, opts);
  const account = await storage.directory.getAccountByAddress(parseAddress(address).address);
  if (!account) throw new NotFoundError(`unknown account ${address}`);
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  const target: ImportTarget = { mail: storage.mail, blobs: storage.blobs, account };
  const lines: string[] = [];
  for (const source of boxes) {
    const box = await targetMailbox(storage, account, source.name);
    const tally: Tally = { added: 0, duplicate: 0 };
    if (format === 'mbox') await importMboxFile(target, box, source.path, tally);
    else await importMaildir(target, box, source.path, tally);
    lines.push(`${box.name}: ${tally.added} added, ${tally.duplicate} already there`);
  }
  return [...lines, `imported ${path} (${format}) into ${account.address}`];
}
