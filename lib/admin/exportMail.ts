/**
 * `admin export ACCOUNT --out PATH [--format mbox|maildir] [--mailbox NAME]`: the account's mail as files
 * the user owns. Every mailbox (special-use ones under their own names), or one; messages in UID order,
 * each read from the blob store as a stream (`headerPrefix + blob`, what IMAP serves), so memory stays
 * bounded. mbox: one mboxrd file per mailbox (lib/mailboxFormats/mbox.ts), laid out by mboxFileOf; with
 * --mailbox, PATH is that one file. maildir: one Maildir++ tree (lib/mailboxFormats/maildir.ts). Files are
 * 0600, directories 0700, and nothing that exists is overwritten.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseAddress } from '../core/address.ts';
import { AlreadyExistsError, NotFoundError } from '../core/errors.ts';
import { openMessage } from '../core/messageBody.ts';
import type { BlobStore, MailboxState, MailStore, MessageMeta } from '../core/ports.ts';
import { linePieces, toLf } from '../mailboxFormats/lines.ts';
import {
  formatDovecotKeywords,
  keywordTable,
  maildirFolder,
  maildirInfo,
  maildirUnique,
  mboxFileOf,
} from '../mailboxFormats/maildir.ts';
import { marksOf } from '../mailboxFormats/marks.ts';
import { mboxEntry } from '../mailboxFormats/mbox.ts';
import type { AdminStorage } from './commands.ts';
import { existsPath } from './mailFiles.ts';

export type MailFormat = 'mbox' | 'maildir';

export interface ExportOptions {
  readonly format: MailFormat;
  readonly out: string;
  readonly mailbox?: string;
}

/** Messages read per listing: the index of a mailbox is listed whole, its messages this many at a time. */
const PAGE = 200;

async function* messagesOf(mail: MailStore, box: MailboxState): AsyncGenerator<MessageMeta> {
  const uids = (await mail.listIndex(box)).map((e) => e.uid);
  for (let i = 0; i < uids.length; i += PAGE) {
    const page = uids.slice(i, i + PAGE);
    yield* await mail.listMessages(box, { fromUid: page[0], toUid: page[page.length - 1], projection: 'light' });
  }
}

const chunksOf = async function* (blobs: BlobStore, meta: MessageMeta): AsyncGenerator<Buffer> {
  yield* (await openMessage(blobs, meta)) as AsyncIterable<Buffer>;
};

async function exportMbox(storage: AdminStorage, box: MailboxState, file: string): Promise<number> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let count = 0;
  async function* entries(): AsyncGenerator<Buffer> {
    for await (const meta of messagesOf(storage.mail, box)) {
      yield* mboxEntry({ internalDate: meta.internalDate, marks: marksOf(meta.flags) }, chunksOf(storage.blobs, meta));
      count++;
    }
  }
  await pipeline(Readable.from(entries()), createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return count;
}

async function makeMaildir(dir: string): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
}

async function exportMaildir(storage: AdminStorage, box: MailboxState, root: string): Promise<string[]> {
  const dir = join(root, maildirFolder(box.name));
  await makeMaildir(dir);
  if (box.name !== 'INBOX') await writeFile(join(dir, 'maildirfolder'), '', { flag: 'wx', mode: 0o600 });
  const { table, leftOut } = keywordTable(box.keywords);
  if (table.length > 0) await writeFile(join(dir, 'dovecot-keywords'), formatDovecotKeywords(table), { mode: 0o600 });
  const index = new Map(table.map((kw, i) => [kw, i]));
  let count = 0;
  for await (const meta of messagesOf(storage.mail, box)) {
    const name = `${maildirUnique(meta.internalDate, meta.uid, process.pid, hostname())}${maildirInfo(marksOf(meta.flags), index)}`;
    const file = join(dir, 'cur', name);
    const lf = async function* () {
      for await (const piece of linePieces(chunksOf(storage.blobs, meta))) yield toLf(piece);
    };
    await pipeline(Readable.from(lf()), createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    const seconds = meta.internalDate / 1000;
    await utimes(file, seconds, seconds);
    count++;
  }
  const note = leftOut.length > 0 ? ` (keywords past 26 left out: ${leftOut.join(' ')})` : '';
  return [`${box.name}: ${count} messages${note}`];
}

export async function exportAccount(storage: AdminStorage, address: string, opts: ExportOptions): Promise<string[]> {
  const account = await storage.directory.getAccountByAddress(parseAddress(address).address);
  if (!account) throw new NotFoundError(`unknown account ${address}`);
  let boxes = await storage.mail.listMailboxes(account.accountId);
  if (opts.mailbox !== undefined) {
    boxes = boxes.filter((b) => b.name === opts.mailbox);
    if (boxes.length === 0) throw new NotFoundError(`unknown mailbox ${opts.mailbox}`);
  }
  if (await existsPath(opts.out)) throw new AlreadyExistsError(`${opts.out} exists; export writes a new path`);
  const lines: string[] = [];
  if (opts.format === 'maildir') {
    await mkdir(opts.out, { recursive: true, mode: 0o700 });
    await makeMaildir(opts.out);
    for (const box of boxes) lines.push(...(await exportMaildir(storage, box, opts.out)));
  } else if (opts.mailbox !== undefined) {
    lines.push(`${boxes[0].name}: ${await exportMbox(storage, boxes[0], opts.out)} messages`);
  } else {
    await mkdir(opts.out, { recursive: true, mode: 0o700 });
    for (const box of boxes) {
      const count = await exportMbox(storage, box, join(opts.out, mboxFileOf(box.name)));
      lines.push(`${box.name}: ${count} messages`);
    }
  }
  return [...lines, `exported ${account.address} to ${opts.out} (${opts.format})`];
}
