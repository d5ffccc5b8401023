/**
 * Maildir (cr.yp.to/proto/maildir.html) in the Maildir++ layout Dovecot and Courier use: the root directory
 * is INBOX, every other mailbox a `.`-prefixed sibling directory whose hierarchy levels are joined by `.`
 * (`Lists/rust` is `.Lists.rust`), each level in IMAP modified UTF-7 (RFC 3501 §5.1.3) as Dovecot writes
 * them, with `%` and a `.` inside a level written `%25` and `%2E` (Maildir++ has no escape of its own).
 * Messages live in `cur/` as `<unique>:2,<flags>`: D F R S T (\Draft \Flagged \Answered \Seen \Deleted),
 * then keyword letters a-z, in ASCII order; the letters name the keywords of the folder's
 * `dovecot-keywords` file (`<index> <keyword>` lines, index 0 = a), so 26 keywords per mailbox at most.
 * The file's mtime is the INTERNALDATE. Pure: names and contents only; lib/admin does the files.
 */
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../imap/codec/mutf7.ts';
import { isKeyword, type Marks, marksOf } from './marks.ts';

const LETTERS: readonly [string, string][] = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];
export const MAX_MAILDIR_KEYWORDS = 26;
const KEYWORD_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** The `:2,` info of a message: its flag letters in ASCII order. Keywords not in `keywordIndex` are left out. */
export function maildirInfo(marks: Marks, keywordIndex: ReadonlyMap<string, number>): string {
  const letters = LETTERS.filter(([, flag]) => marks.system.has(flag)).map(([letter]) => letter);
  for (const kw of marks.keywords) {
    const i = keywordIndex.get(kw);
    if (i !== undefined && i < MAX_MAILDIR_KEYWORDS) letters.push(KEYWORD_LETTERS[i]);
  }
  return `:2,${letters.sort().join('')}`;
}

/** The flags of a file name (`...:2,FS`); a name without info (as in `new/`) has none. */
export function marksFromFileName(name: string, keywords: readonly string[]): Marks {
  const info = /:2,([^:]*)$/.exec(name)?.[1] ?? '';
  const flags: string[] = [];
  for (const c of info) {
    const system = LETTERS.find(([letter]) => letter === c)?.[1];
    if (system) flags.push(system);
    const i = KEYWORD_LETTERS.indexOf(c);
    if (i >= 0 && keywords[i]) flags.push(keywords[i]);
  }
  return marksOf(flags);
}

/** A unique file name for one exported message (the Maildir convention: time, then what makes it unique). */
export function maildirUnique(internalDate: number, uid: number, pid: number, host: string): string {
  const safeHost = host.replace(/\//g, '\\057').replace(/:/g, '\\072') || 'localhost';
  return `${Math.floor(internalDate / 1000)}.M${uid}P${pid}.${safeHost}`;
}

/** The keywords of a mailbox, in the order they get letters: at most 26; the rest are returned as left out. */
export function keywordTable(keywords: Iterable<string>): { table: string[]; leftOut: string[] } {
  const all = [...new Set(keywords)];
  return { table: all.slice(0, MAX_MAILDIR_KEYWORDS), leftOut: all.slice(MAX_MAILDIR_KEYWORDS) };
}

export const formatDovecotKeywords = (table: readonly string[]): string =>
  table.map((kw, i) => `${i} ${kw}\n`).join('');

/** The keywords by index from a dovecot-keywords file (lines it cannot read are skipped). */
export function parseDovecotKeywords(text: string): string[] {
  const table: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\S+)$/.exec(line.trim());
    if (m && Number(m[1]) < MAX_MAILDIR_KEYWORDS && isKeyword(m[2])) table[Number(m[1])] = m[2];
  }
  return table;
}

// ---------------------------------------------------------------- folder names

const escapeLevel = (level: string) => encodeModifiedUtf7(level).replace(/%/g, '%25').replace(/\./g, '%2E');

/** The Maildir++ directory of a mailbox (relative to the root): '' for INBOX, `.Sent`, `.Lists.rust`. */
export function maildirFolder(mailbox: string): string {
  return mailbox === 'INBOX' ? '' : `.${mailbox.split('/').map(escapeLevel).join('.')}`;
}

/** The mailbox a Maildir++ directory name stands for (`.Lists.rust` is `Lists/rust`); undefined if none. */
export function mailboxOfFolder(dir: string): string | undefined {
  if (!dir.startsWith('.') || dir === '.' || dir === '..') return undefined;
  const levels = dir.slice(1).split('.');
  const names = levels.map((l) => decodeModifiedUtf7(l.replace(/%2E/gi, '.').replace(/%25/g, '%')));
  if (names.some((n) => n === null || n === '')) return undefined;
  return names.join('/');
}

// ---------------------------------------------------------------- mbox trees

/**
 * The file of a mailbox in an exported tree of mbox files: levels as directories, `.mbox` on the last
 * (`Lists/rust` is `Lists/rust.mbox`, so `Lists.mbox` and the directory `Lists/` sit side by side); `%` and a
 * leading `.` are written `%25` and `%2E`, so no level is `.` or `..`.
 */
export function mboxFileOf(mailbox: string): string {
  const levels = mailbox.split('/').map((l) => l.replace(/%/g, '%25').replace(/^\./, '%2E'));
  return `${levels.join('/')}.mbox`;
}

/** The mailbox an exported mbox file stands for (its path relative to the tree, `/`-separated). */
export function mailboxOfMboxFile(relative: string): string | undefined {
  if (!relative.endsWith('.mbox')) return undefined;
  const levels = relative.slice(0, -'.mbox'.length).split('/');
  if (levels.some((l) => l === '')) return undefined;
  return levels.map((l) => l.replace(/^%2E/i, '.').replace(/%25/g, '%')).join('/');
}
