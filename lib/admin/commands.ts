/**
 * The admin CLI's commands as plain functions over the Directory and MailStore ports. Each validates all of
 * its input (syntax, domain existence, free address) before it writes anything and returns the lines to print;
 * errors are thrown (InvalidInputError, NotFoundError, AlreadyExistsError for input that will stay wrong).
 * local/admin.ts owns argv, the target, stdin/TTY, output and exit codes.
 */

import { join, resolve } from 'node:path';
import { isPostmaster, normalizeDomain, parseAddress } from '../core/address.ts';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../core/errors.ts';
import { normalizeMailboxName } from '../core/mailboxNames.ts';
import type { DkimKey, OutboundQueue } from '../core/outbound.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, passwordLength } from '../core/password.ts';
import type { BlobStore, Directory, MailStore, Storage } from '../core/ports.ts';
import { MESSAGE_PREFIX } from '../core/schema.ts';
import type { DkimKeyAdmin } from '../outbound/dkimKeys.ts';
import { findAliasLoop } from '../pipeline/resolve.ts';
import { formatQuota, type ParsedArgs, parseDuration, parseQuota } from './args.ts';
import {
  dkimKeysForNewDomain,
  dkimList,
  dkimPublish,
  dkimRemoveDomain,
  dkimRetire,
  dkimRotate,
} from './dkimCommands.ts';
import type { TxtZone } from './dkimDns.ts';
import { dnsZoneLines, OUTBOUND_ROUTES, type OutboundRoute } from './dns.ts';
import { exportAccount, type MailFormat } from './exportMail.ts';
import { importFiles } from './importFiles.ts';
import { type ImapSource, imapPassword, importImap } from './importImap.ts';
import { outboxDirOf, outboxList, outboxShow } from './outboxCommands.ts';
import { checkQueueId, queueDelete, queueList, queueRetry, queueShow } from './queueCommands.ts';

export const USAGE: readonly string[] = [
  'usage: npm run admin -- <command> [options]',
  '',
  'domains',
  '  domain add <domain> [--postmaster <address>]',
  '                                               postmaster@<domain> goes to that account unless an alias',
  '                                               says otherwise; default: the catch-all, else the first account',
  '  domain list',
  '                                               also makes its DKIM keys (RSA 2048 and Ed25519)',
  '  domain remove <domain>                       refused while accounts or aliases remain; deletes its DKIM keys',
  'accounts',
  '  account add <address> [--quota <size>] [--password-stdin] [--allow-weak-password]',
  `                                               passwords: at least ${MIN_PASSWORD_LENGTH} characters`,
  '  account passwd <address> [--password-stdin] [--allow-weak-password]',
  '  account list [domain]',
  '  account remove <address>                     its mailboxes and mail are deleted too',
  'aliases',
  '  alias add <address|@domain> <target> [target...]   @domain is the catch-all',
  '  alias list [domain]',
  '  alias remove <address|@domain>',
  'quotas',
  '  quota set <address> <size>                   size: bytes, 512K, 10M, 2G; 0 = unlimited',
  'dkim',
  '  dkim list <domain>                           selectors, algorithm, created, signing or only published',
  '  dkim rotate <domain>                         new keys sign from now on; the old stay published',
  '  dkim retire <domain> <selector>              deletes a key that no longer signs',
  '  dkim publish <domain>                        writes every selector into the hosted zone (--aws and',
  '                                               POSTERN_HOSTED_ZONE_ID; with them, add, rotate and retire',
  '                                               change the zone themselves)',
  'dns',
  '  dns <domain> [--host <mail host>] [--ip <address>] [--outbound ses|direct]',
  '                                               records the domain needs, in zone-file form, DKIM included;',
  '                                               SPF for SES (default with --aws) or the host itself',
  'blobs',
  '  blobs sweep [--grace <age>]                  deletes message blobs no mailbox references, once older',
  "                                               than the grace (default: the mail store's, an hour); a",
  '                                               shorter one only while no delivery is in flight',
  'outbound queue',
  '  queue list                                   every entry: pending ones first, then finished ones',
  '  queue show <id>                              an entry and each recipient with its last reply',
  '  queue retry <id>                             tries its deferred recipients at the next queue run',
  '  queue delete <id>                            gives up on the entry (nothing more is sent for it)',
  'mail the user owns',
  '  export <address> --out <path> [--format mbox|maildir] [--mailbox <name>]',
  '                                               every mailbox (or one) as mboxrd files or a Maildir++ tree,',
  '                                               with flags and dates; nothing existing is overwritten',
  '  import <address> <path> [--format mbox|maildir] [--mailbox <name>]',
  '                                               an mbox file (into --mailbox, default INBOX), an exported',
  '                                               mbox tree or a Maildir++ root; each message once',
  '  import <address> --imap <host> <user> [--port <n>] [--tls|--starttls] [--password-file <file>]',
  '         [--password-stdin] [--mailbox <name>]  copies the remote mailboxes; resumable, each message once',
  'outbox (the emulator keeps outgoing mail here instead of sending it)',
  '  outbox list                                  kept messages, oldest first',
  '  outbox show <id>                             one message: its envelope, then its text',
  '  help                                         this text',
  '',
  'options',
  '  --aws              use AWS (endpoints and names from the environment) instead of the local emulator;',
  '                     POSTERN_ADMIN_TARGET=aws does the same',
  '  --password-stdin   read the password from the first line of stdin instead of prompting on the terminal',
  '  --allow-weak-password',
  `                     accept a password shorter than ${MIN_PASSWORD_LENGTH} characters (NIST SP 800-63B-4 minimum)`,
  '',
  'The local emulator is found through POSTERN_DATA_DIR (default .data); start it with npm start.',
];

/** What the commands need from storage. */
export interface AdminStorage {
  readonly directory: Directory;
  readonly mail: MailStore;
  readonly blobs: BlobStore;
  readonly queue: OutboundQueue;
}

/** How storage is opened: the mail store's grace for unreferenced blobs (its default when omitted). */
export interface AdminStorageOptions {
  readonly blobGraceMs?: number;
}

export interface CommandContext {
  /** Opens storage for the chosen target; only called by commands that need it, after their syntax checks. */
  storage(opts?: AdminStorageOptions): Promise<AdminStorage>;
  /** Opens the DKIM key store of the target (the data directory's files, or Secrets Manager). */
  dkimKeys(): Promise<DkimKeyAdmin>;
  /** The hosted zone the DKIM records go in (--aws with POSTERN_HOSTED_ZONE_ID); undefined without one. */
  dkimZone?(): TxtZone | undefined;
  /** Reads a new password (stdin or terminal prompt); called only once every other check has passed. */
  readPassword(): Promise<string>;
  /** Reads another server's password from the first line of stdin (--password-stdin). */
  readSecret(): Promise<string>;
  readonly env: NodeJS.ProcessEnv;
}

// ---------------------------------------------------------------- validation helpers

async function requireDomain(directory: Directory, domain: string): Promise<void> {
  if (!(await directory.getDomain(domain))) throw new NotFoundError(`unknown domain ${domain}`);
}

async function requireFree(directory: Directory, address: string): Promise<void> {
  const entry = await directory.lookupAddress(address);
  if (entry) throw new AlreadyExistsError(`${address} already exists (${entry.kind})`);
}

/** Hashes a new password from `readPassword`, refusing an empty one, or a short one unless `allowWeak`. */
export async function newPasswordHash(readPassword: () => Promise<string>, allowWeak = false): Promise<string> {
  const password = await readPassword();
  if (password === '') throw new InvalidInputError('empty password refused');
  if (!allowWeak && passwordLength(password) < MIN_PASSWORD_LENGTH) {
    throw new InvalidInputError(
      `password too short: at least ${MIN_PASSWORD_LENGTH} characters (a passphrase of a few words will do), or --allow-weak-password`,
    );
  }
  return hashPassword(password);
}

/** Normalises an alias address: `local@domain` or the catch-all `@domain`. */
function aliasAddress(input: string): { address: string; domain: string } {
  if (input.startsWith('@')) {
    const domain = normalizeDomain(input.slice(1));
    return { address: `@${domain}`, domain };
  }
  const { address, domain } = parseAddress(input);
  return { address, domain };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------- domains

const postmasterNote = (postmaster: string | undefined) => (postmaster ? `  postmaster=${postmaster}` : '');

/**
 * Checks the postmaster named for a new domain: an address of that domain (its account may be added next), or
 * an existing account of another domain we serve. Not postmaster@ the domain itself, which it stands in for.
 */
async function checkPostmaster(directory: Directory, domain: string, input: string): Promise<string> {
  const { address, domain: home, local } = parseAddress(input);
  if (home === domain) {
    if (isPostmaster(local)) throw new InvalidInputError(`--postmaster must name the account behind ${address}`);
    return address;
  }
  if (!(await directory.getDomain(home)))
    throw new InvalidInputError(`--postmaster ${address}: ${home} is not a domain we serve`);
  if (!(await directory.getAccountByAddress(address))) throw new NotFoundError(`unknown account ${address}`);
  return address;
}

export async function domainAdd(directory: Directory, input: string, postmasterInput?: string): Promise<string[]> {
  const domain = normalizeDomain(input);
  if (await directory.getDomain(domain)) throw new AlreadyExistsError(`domain ${domain} already exists`);
  const postmaster =
    postmasterInput === undefined ? undefined : await checkPostmaster(directory, domain, postmasterInput);
  await directory.addDomain(domain, { postmaster });
  return [`added domain ${domain}${postmasterNote(postmaster)}`];
}

export async function domainList(directory: Directory): Promise<string[]> {
  return (await directory.listDomains())
    .sort((a, b) => byText(a.domain, b.domain))
    .map((d) => `${d.domain}${postmasterNote(d.postmaster)}`);
}

/** `removeKeys` deletes the domain's DKIM keys, once every check has passed and before the domain goes. */
export async function domainRemove(
  directory: Directory,
  input: string,
  removeKeys: (domain: string) => Promise<void> = async () => {},
): Promise<string[]> {
  const domain = normalizeDomain(input);
  await requireDomain(directory, domain);
  const [accounts, aliases] = await Promise.all([directory.listAccounts(domain), directory.listAliases(domain)]);
  if (accounts.length + aliases.length > 0) {
    const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    throw new InvalidInputError(
      `domain ${domain} still has ${count(accounts.length, 'account', 'accounts')} and ${count(aliases.length, 'alias', 'aliases')}; remove them first`,
    );
  }
  await removeKeys(domain);
  await directory.removeDomain(domain);
  return [`removed domain ${domain}`];
}

// ---------------------------------------------------------------- accounts

/** `newHash` reads, checks and hashes the password (newPasswordHash), after every other check. */
export async function accountAdd(
  storage: AdminStorage,
  input: string,
  quotaBytes: number,
  newHash: () => Promise<string>,
): Promise<string[]> {
  const { address, domain } = parseAddress(input);
  await requireDomain(storage.directory, domain);
  await requireFree(storage.directory, address);
  const passwordHash = await newHash();
  const account = await storage.directory.addAccount({ address, passwordHash, quotaBytes });
  try {
    await storage.mail.ensureDefaultMailboxes(account.accountId);
  } catch (err) {
    // Leave no account behind without its mailboxes; the command can simply be run again.
    await storage.directory.removeAccount(address).catch(() => {});
    throw err;
  }
  return [`added account ${address}  quota=${formatQuota(quotaBytes)}`];
}

export async function accountPasswd(
  directory: Directory,
  input: string,
  newHash: () => Promise<string>,
): Promise<string[]> {
  const { address } = parseAddress(input);
  if (!(await directory.getAccountByAddress(address))) throw new NotFoundError(`unknown account ${address}`);
  await directory.setPasswordHash(address, await newHash());
  return [`changed password of ${address}`];
}

export async function accountList(directory: Directory, domainInput?: string): Promise<string[]> {
  let domain: string | undefined;
  if (domainInput !== undefined) {
    domain = normalizeDomain(domainInput);
    await requireDomain(directory, domain);
  }
  return (await directory.listAccounts(domain))
    .sort((a, b) => byText(a.address, b.address))
    .map((a) => `${a.address}  quota=${formatQuota(a.quotaBytes)}`);
}

/** Deletes the account's mail first, then the account: a failure half way leaves an account to remove again. */
export async function accountRemove(storage: Pick<Storage, 'directory' | 'mail'>, input: string): Promise<string[]> {
  const { address } = parseAddress(input);
  const account = await storage.directory.getAccountByAddress(address);
  if (!account) throw new NotFoundError(`unknown account ${address}`);
  await storage.mail.deleteAccountMail(account.accountId);
  await storage.directory.removeAccount(address);
  return [`removed account ${address}`];
}

export async function quotaSet(directory: Directory, input: string, quotaInput: string): Promise<string[]> {
  const { address } = parseAddress(input);
  const quotaBytes = parseQuota(quotaInput);
  if (!(await directory.getAccountByAddress(address))) throw new NotFoundError(`unknown account ${address}`);
  await directory.setQuota(address, quotaBytes);
  return [`${address}  quota=${formatQuota(quotaBytes)}`];
}

// ---------------------------------------------------------------- aliases

const aliasLine = (address: string, targets: readonly string[]) => `${address} -> ${targets.join(', ')}`;

export async function aliasAdd(
  directory: Directory,
  input: string,
  targetInputs: readonly string[],
): Promise<string[]> {
  const { address, domain } = aliasAddress(input);
  if (targetInputs.length === 0) throw new InvalidInputError('an alias needs at least one target');
  const targets = [...new Set(targetInputs.map((t) => parseAddress(t).address))];
  if (targets.includes(address)) throw new InvalidInputError(`alias ${address} cannot point at itself`);
  await requireDomain(directory, domain);
  await requireFree(directory, address);
  const loop = await findAliasLoop(directory, { address, targets });
  if (loop) throw new InvalidInputError(`alias ${address} would loop: ${loop.join(' -> ')}`);
  const alias = await directory.addAlias(address, targets);
  return [`added alias ${aliasLine(alias.address, alias.targets)}`];
}

export async function aliasList(directory: Directory, domainInput?: string): Promise<string[]> {
  let domain: string | undefined;
  if (domainInput !== undefined) {
    domain = normalizeDomain(domainInput);
    await requireDomain(directory, domain);
  }
  return (await directory.listAliases(domain))
    .sort((a, b) => byText(a.address, b.address))
    .map((a) => aliasLine(a.address, a.targets));
}

export async function aliasRemove(directory: Directory, input: string): Promise<string[]> {
  const { address } = aliasAddress(input);
  const entry = await directory.lookupAddress(address);
  if (entry?.kind !== 'alias') throw new NotFoundError(`unknown alias ${address}`);
  await directory.removeAlias(address);
  return [`removed alias ${address}`];
}

// ---------------------------------------------------------------- dns

export function dnsLines(
  domain: string,
  opts: { host?: string; ip?: string; dkimKeys?: readonly DkimKey[]; outbound?: string },
  env: NodeJS.ProcessEnv,
): string[] {
  const normalized = normalizeDomain(domain);
  const host = opts.host ?? (env.POSTERN_HOSTNAME || `mail.${normalized}`);
  const outbound = opts.outbound ?? 'direct';
  if (!(OUTBOUND_ROUTES as readonly string[]).includes(outbound)) {
    throw new InvalidInputError(`--outbound must be ${OUTBOUND_ROUTES.join(' or ')}, not ${JSON.stringify(outbound)}`);
  }
  return dnsZoneLines(normalized, {
    host,
    ip: opts.ip,
    dkimKeys: opts.dkimKeys,
    outbound: outbound as OutboundRoute,
  });
}

// ---------------------------------------------------------------- blobs

/** Feeds the listing of the message prefix to the mail store's sweep, page by page as it goes. */
export async function blobsSweep(storage: Pick<AdminStorage, 'mail' | 'blobs'>): Promise<string[]> {
  const { deleted, kept } = await storage.mail.sweepBlobs(storage.blobs.list(MESSAGE_PREFIX));
  return [`checked ${deleted.length + kept} blobs under ${MESSAGE_PREFIX}: deleted ${deleted.length}, kept ${kept}`];
}

// ---------------------------------------------------------------- dispatch

/** Which options each command accepts (besides the global --aws and --help). */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  'domain add': ['postmaster'],
  'domain list': [],
  'domain remove': [],
  'account add': ['quota', 'password-stdin', 'allow-weak-password'],
  'account passwd': ['password-stdin', 'allow-weak-password'],
  'account list': [],
  'account remove': [],
  'alias add': [],
  'alias list': [],
  'alias remove': [],
  'quota set': [],
  'dkim list': [],
  'dkim rotate': [],
  'dkim retire': [],
  'dkim publish': [],
  dns: ['host', 'ip', 'outbound'],
  'blobs sweep': ['grace'],
  'queue list': [],
  'queue show': [],
  'queue retry': [],
  'queue delete': [],
  'outbox list': [],
  'outbox show': [],
  export: ['format', 'out', 'mailbox'],
  import: ['format', 'mailbox', 'imap', 'port', 'tls', 'starttls', 'password-file', 'password-stdin'],
};

/** Commands of one word. */
const SINGLE_WORD = new Set(['dns', 'export', 'import']);

const GLOBAL_SWITCHES = new Set(['aws', 'help']);

/** True when the arguments ask for the usage text (no command, `help`, `--help`, `-h`). */
export function wantsHelp(args: ParsedArgs): boolean {
  return args.positionals.length === 0 || args.positionals[0] === 'help' || args.switches.has('help');
}

/** Names the command (`domain add`, `dns`) and checks its options, before anything is opened or read. */
export function commandName(args: ParsedArgs): string {
  const [group, verb] = args.positionals;
  const name = SINGLE_WORD.has(group) ? group : `${group} ${verb ?? ''}`.trim();
  const allowed = COMMAND_OPTIONS[name];
  if (!allowed) {
    if (['domain', 'account', 'alias', 'quota', 'blobs', 'dkim', 'queue', 'outbox'].includes(group)) {
      const verbs = Object.keys(COMMAND_OPTIONS)
        .filter((k) => k.startsWith(`${group} `))
        .map((k) => k.slice(group.length + 1));
      throw new InvalidInputError(
        verb === undefined
          ? `missing ${group} command (${verbs.join(', ')})`
          : `unknown command ${group} ${verb} (${verbs.join(', ')})`,
      );
    }
    throw new InvalidInputError(`unknown command ${group}; try help`);
  }
  const given = [...Object.keys(args.values), ...[...args.switches].filter((s) => !GLOBAL_SWITCHES.has(s))];
  const stray = given.find((o) => !allowed.includes(o));
  if (stray) throw new InvalidInputError(`option --${stray} does not apply to ${name}`);
  return name;
}

/** The command's arguments after its name, checked against the number it takes. */
function operands(args: ParsedArgs, name: string, min: number, max: number, what: string): string[] {
  const rest = args.positionals.slice(name.split(' ').length);
  if (rest.length < min) throw new InvalidInputError(`missing argument: ${name} ${what}`);
  if (rest.length > max) throw new InvalidInputError(`too many arguments: ${name} ${what}`);
  return rest;
}

/** The new password's hash for account add / passwd, read and checked only when the command asks for it. */
function newHashOf(args: ParsedArgs, ctx: CommandContext): () => Promise<string> {
  return () => newPasswordHash(ctx.readPassword, args.switches.has('allow-weak-password'));
}

function formatOf(args: ParsedArgs): MailFormat | undefined {
  const format = args.values.format;
  if (format !== undefined && format !== 'mbox' && format !== 'maildir')
    throw new InvalidInputError(`--format is mbox or maildir, not ${format}`);
  return format;
}

const mailboxOf = (args: ParsedArgs) =>
  args.values.mailbox === undefined ? undefined : normalizeMailboxName(args.values.mailbox);

/** `import`: from files, or with --imap from another server (state kept under the data directory). */
async function runImport(args: ParsedArgs, ctx: CommandContext): Promise<string[]> {
  const host = args.values.imap;
  if (host === undefined) {
    const [address, path] = operands(args, 'import', 2, 2, '<address> <path>');
    parseAddress(address);
    const imapOnly = ['port', 'password-file'].filter((o) => o in args.values);
    for (const s of ['tls', 'starttls', 'password-stdin']) if (args.switches.has(s)) imapOnly.push(s);
    if (imapOnly.length > 0) throw new InvalidInputError(`--${imapOnly[0]} goes with --imap`);
    return importFiles(await ctx.storage(), address, resolve(path), {
      format: formatOf(args),
      mailbox: mailboxOf(args),
    });
  }
  const [address, user] = operands(args, 'import', 2, 2, '<address> --imap <host> <user>');
  parseAddress(address);
  if (args.values.format !== undefined) throw new InvalidInputError('--format does not go with --imap');
  if (args.switches.has('tls') && args.switches.has('starttls'))
    throw new InvalidInputError('--tls or --starttls, not both');
  const port = args.values.port === undefined ? undefined : Number(args.values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new InvalidInputError(`invalid --port ${args.values.port}`);
  const password = await imapPassword(args.values['password-file'], ctx.readSecret);
  const source: ImapSource = {
    host,
    port,
    security: args.switches.has('starttls') ? 'starttls' : 'tls',
    user,
    password,
    mailbox: args.values.mailbox,
  };
  const stateDir = join(resolve(ctx.env.POSTERN_DATA_DIR || '.data'), 'imports');
  return importImap(await ctx.storage(), address, source, { stateDir });
}

/** Runs one command and returns the lines it prints. The caller handles help first (see wantsHelp). */
export async function runCommand(args: ParsedArgs, ctx: CommandContext): Promise<string[]> {
  const name = commandName(args);
  const many = Number.POSITIVE_INFINITY;
  switch (name) {
    case 'domain add': {
      const [domain] = operands(args, name, 1, 1, '<domain> [--postmaster <address>]');
      normalizeDomain(domain);
      if (args.values.postmaster !== undefined) parseAddress(args.values.postmaster);
      const { directory } = await ctx.storage();
      const added = await domainAdd(directory, domain, args.values.postmaster);
      const deps = { directory, keys: await ctx.dkimKeys(), zone: ctx.dkimZone?.() };
      const keys = await dkimKeysForNewDomain(deps, normalizeDomain(domain));
      return [...added, ...keys];
    }
    case 'domain list':
      operands(args, name, 0, 0, '');
      return domainList((await ctx.storage()).directory);
    case 'domain remove': {
      const [domain] = operands(args, name, 1, 1, '<domain>');
      normalizeDomain(domain);
      const { directory } = await ctx.storage();
      const deps = { keys: await ctx.dkimKeys(), zone: ctx.dkimZone?.() };
      return domainRemove(directory, domain, (d) => dkimRemoveDomain(deps, d));
    }
    case 'account add': {
      const [address] = operands(args, name, 1, 1, '<address> [--quota <size>] [--password-stdin]');
      parseAddress(address);
      const quota = args.values.quota === undefined ? 0 : parseQuota(args.values.quota);
      return accountAdd(await ctx.storage(), address, quota, newHashOf(args, ctx));
    }
    case 'account passwd': {
      const [address] = operands(args, name, 1, 1, '<address> [--password-stdin]');
      parseAddress(address);
      return accountPasswd((await ctx.storage()).directory, address, newHashOf(args, ctx));
    }
    case 'account list': {
      const [domain] = operands(args, name, 0, 1, '[domain]');
      if (domain !== undefined) normalizeDomain(domain);
      return accountList((await ctx.storage()).directory, domain);
    }
    case 'account remove': {
      const [address] = operands(args, name, 1, 1, '<address>');
      parseAddress(address);
      return accountRemove(await ctx.storage(), address);
    }
    case 'alias add': {
      const [address, ...targets] = operands(args, name, 2, many, '<address|@domain> <target> [target...]');
      aliasAddress(address);
      for (const t of targets) parseAddress(t);
      return aliasAdd((await ctx.storage()).directory, address, targets);
    }
    case 'alias list': {
      const [domain] = operands(args, name, 0, 1, '[domain]');
      if (domain !== undefined) normalizeDomain(domain);
      return aliasList((await ctx.storage()).directory, domain);
    }
    case 'alias remove': {
      const [address] = operands(args, name, 1, 1, '<address|@domain>');
      aliasAddress(address);
      return aliasRemove((await ctx.storage()).directory, address);
    }
    case 'quota set': {
      const [address, quota] = operands(args, name, 2, 2, '<address> <size>');
      parseAddress(address);
      parseQuota(quota);
      return quotaSet((await ctx.storage()).directory, address, quota);
    }
    case 'dns': {
      const [domain] = operands(
        args,
        name,
        1,
        1,
        '<domain> [--host <mail host>] [--ip <address>] [--outbound ses|direct]',
      );
      // A deployment sends through SES (lib/infra/functions.ts); the emulator's host sends itself.
      const aws = args.switches.has('aws') || ctx.env.POSTERN_ADMIN_TARGET?.toLowerCase() === 'aws';
      const opts = {
        host: args.values.host,
        ip: args.values.ip,
        outbound: args.values.outbound ?? (aws ? 'ses' : 'direct'),
      };
      dnsLines(domain, opts, ctx.env); // input errors before the key store is opened
      const dkimKeys = await (await ctx.dkimKeys()).list(normalizeDomain(domain));
      return dnsLines(domain, { ...opts, dkimKeys }, ctx.env);
    }
    case 'dkim list':
    case 'dkim rotate':
    case 'dkim publish': {
      const [domain] = operands(args, name, 1, 1, '<domain>');
      normalizeDomain(domain);
      const deps = { directory: (await ctx.storage()).directory, keys: await ctx.dkimKeys(), zone: ctx.dkimZone?.() };
      const run = { 'dkim list': dkimList, 'dkim rotate': dkimRotate, 'dkim publish': dkimPublish }[name];
      return run(deps, domain);
    }
    case 'dkim retire': {
      const [domain, selector] = operands(args, name, 2, 2, '<domain> <selector>');
      normalizeDomain(domain);
      const deps = { directory: (await ctx.storage()).directory, keys: await ctx.dkimKeys(), zone: ctx.dkimZone?.() };
      return dkimRetire(deps, domain, selector);
    }
    case 'blobs sweep': {
      operands(args, name, 0, 0, '[--grace <age>]');
      const grace = args.values.grace;
      return blobsSweep(await ctx.storage({ blobGraceMs: grace === undefined ? undefined : parseDuration(grace) }));
    }
    case 'queue list':
      operands(args, name, 0, 0, '');
      return queueList((await ctx.storage()).queue);
    case 'queue show':
    case 'queue retry':
    case 'queue delete': {
      const [id] = operands(args, name, 1, 1, '<id>');
      checkQueueId(id);
      const run = { 'queue show': queueShow, 'queue retry': queueRetry, 'queue delete': queueDelete }[name];
      return run((await ctx.storage()).queue, id);
    }
    case 'outbox list':
      operands(args, name, 0, 0, '');
      return outboxList(outboxDirOf(args, ctx.env));
    case 'outbox show': {
      const [id] = operands(args, name, 1, 1, '<id>');
      return outboxShow(outboxDirOf(args, ctx.env), id);
    }
    case 'export': {
      const [address] = operands(args, name, 1, 1, '<address> --out <path> [--format mbox|maildir]');
      parseAddress(address);
      if (args.values.out === undefined) throw new InvalidInputError('export needs --out <path>');
      const opts = { format: formatOf(args) ?? 'mbox', out: resolve(args.values.out), mailbox: mailboxOf(args) };
      return exportAccount(await ctx.storage(), address, opts);
    }
    case 'import':
      return runImport(args, ctx);
    default:
      throw new InvalidInputError(`unknown command ${name}`);
  }
}
