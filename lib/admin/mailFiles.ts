/** File helpers of export and import: existence checks and the walks of an mbox tree and a Maildir++ root. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mailboxOfFolder, mailboxOfMboxFile } from '../mailboxFormats/maildir.ts';

export async function existsPath(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export const isDirectory = (path: string) => stat(path).then((s) => s.isDirectory());

/** A source mailbox found on disk: its name and where it is (an mbox file, or a maildir directory). */
export interface SourceMailbox {
  readonly name: string;
  readonly path: string;
}

/** The mbox files of an exported tree (see mboxFileOf), by mailbox name. */
export async function mboxTree(root: string): Promise<SourceMailbox[]> {
  const out: SourceMailbox[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = join(entry.parentPath, entry.name).slice(root.length).replace(/^\/+/, '');
    const name = mailboxOfMboxFile(relative);
    if (name) out.push({ name, path: join(root, relative) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The maildirs of a Maildir++ root: the root itself is INBOX, `.Name` directories the others. */
export async function maildirTree(root: string): Promise<SourceMailbox[]> {
  const out: SourceMailbox[] = [{ name: 'INBOX', path: root }];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const name = entry.isDirectory() ? mailboxOfFolder(entry.name) : undefined;
    if (name && (await existsPath(join(root, entry.name, 'cur')))) out.push({ name, path: join(root, entry.name) });
  }
  return out;
}
