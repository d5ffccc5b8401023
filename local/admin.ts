/**
 * `npm run admin -- <command>`: domains, accounts, aliases, quotas, DNS records and the blob sweep. The same
 * code runs against the local emulator (found through POSTERN_DATA_DIR) and, with --aws or
 * POSTERN_ADMIN_TARGET=aws, against a deployment (endpoints and physical names from the environment).
 *
 * Exit codes: 0 success, 2 input that is wrong (bad address, unknown domain, duplicate, bad usage, no
 * emulator), 1 anything else (storage unavailable, unexpected failure), 130 password prompt interrupted.
 * Errors are one line on stderr starting `postern-admin: `. Passwords are never echoed, printed or logged.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { parseArgs } from '../lib/admin/args.ts';
import { type AdminStorageOptions, type CommandContext, runCommand, USAGE, wantsHelp } from '../lib/admin/commands.ts';
import type { TxtZone } from '../lib/admin/dkimDns.ts';
import { loadAwsConfig, loadDkimConfig, loadDkimZoneConfig } from '../lib/core/config.ts';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../lib/core/errors.ts';
import { MIN_PASSWORD_LENGTH } from '../lib/core/password.ts';
import type { Storage } from '../lib/core/ports.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { makeRoute53Client } from '../lib/storage/aws/clients.ts';
import { Route53TxtRecords } from '../lib/storage/aws/route53Txt.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { type OpenedDkimKeyStore, openDkimKeyStore } from '../lib/storage/dkimKeyStore.ts';
import { dataDirFromEnv, readEmulatorState } from './state.ts';

const PREFIX = 'postern-admin: ';
/** Longest password line accepted on stdin. */
const MAX_PASSWORD_BYTES = 4096;

class Interrupted extends Error {}

function adminTarget(aws: boolean, env: NodeJS.ProcessEnv): 'aws' | 'local' {
  const target = aws ? 'aws' : (env.POSTERN_ADMIN_TARGET || 'local').toLowerCase();
  if (target !== 'aws' && target !== 'local')
    throw new InvalidInputError(`POSTERN_ADMIN_TARGET must be local or aws, not ${target}`);
  return target;
}

/** The emulator's keys are files under the data directory (no emulator need run); AWS's are in Secrets Manager. */
function openDkimKeys(aws: boolean, env: NodeJS.ProcessEnv): OpenedDkimKeyStore {
  const store = adminTarget(aws, env) === 'aws' ? 'secrets-manager' : 'local';
  return openDkimKeyStore({ ...loadDkimConfig(env), store }, { dataDir: dataDirFromEnv(env) });
}

/** Route 53's TXT records of the deployment's hosted zone: only with --aws and POSTERN_HOSTED_ZONE_ID. */
function openDkimZone(aws: boolean, env: NodeJS.ProcessEnv): { zone: TxtZone; client: Route53Client } | undefined {
  const config = loadDkimZoneConfig(env);
  if (adminTarget(aws, env) !== 'aws' || !config.hostedZoneId) return undefined;
  const client = makeRoute53Client(config);
  // The stack's own records (lib/infra/dns.ts) keep CDK's default TTL too.
  const zone = new Route53TxtRecords(client, config.hostedZoneId, { comment: 'Postern DKIM selector', ttl: 1800 });
  return { zone, client };
}

function openStorage(aws: boolean, env: NodeJS.ProcessEnv, opts: AdminStorageOptions = {}): Storage {
  const target = adminTarget(aws, env);
  if (target === 'aws') return createAwsStorage(loadAwsConfig(env), opts);
  const dataDir = dataDirFromEnv(env);
  const state = readEmulatorState(dataDir);
  if (!state)
    throw new InvalidInputError(`no emulator is running for ${dataDir}; start it with npm start (or use --aws)`);
  return createAwsStorage({ endpoints: state.endpoints, names: namesWithPrefix(state.tablePrefix) }, opts);
}

/** The first line of stdin, without its line ending. Stops reading at the first newline. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    const nl = buf.indexOf(0x0a);
    const part = nl < 0 ? buf : buf.subarray(0, nl);
    chunks.push(part);
    length += part.length;
    if (length > MAX_PASSWORD_BYTES) throw new InvalidInputError(`password longer than ${MAX_PASSWORD_BYTES} bytes`);
    if (nl >= 0) break;
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/[\r\n]+$/, '');
}

/** Asks on the terminal with echo off (readline in raw mode writing to a muted output). */
async function promptHidden(prompts: readonly string[]): Promise<string[]> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true, historySize: 0 });
  // The iterator buffers lines, so a pasted "password<CR>password<CR>" answers both prompts.
  const lines = rl[Symbol.asyncIterator]();
  const interrupted = new Promise<never>((_, reject) =>
    rl.once('SIGINT', () => reject(new Interrupted('interrupted'))),
  );
  interrupted.catch(() => {});
  const answers: string[] = [];
  try {
    for (const prompt of prompts) {
      process.stderr.write(prompt);
      muted = true;
      try {
        const next = await Promise.race([lines.next(), interrupted]);
        if (next.done) throw new InvalidInputError('no password given');
        answers.push(next.value);
      } finally {
        muted = false;
        process.stderr.write('\n');
      }
    }
  } finally {
    rl.close();
  }
  return answers;
}

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return passwordFromStdin();
  if (!process.stdin.isTTY) {
    throw new InvalidInputError('no terminal to prompt for the password on; pipe it in with --password-stdin');
  }
  const [first, second] = await promptHidden([
    `New password (at least ${MIN_PASSWORD_LENGTH} characters): `,
    'Repeat password: ',
  ]);
  if (first !== second) throw new InvalidInputError('the passwords do not match');
  return first;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof Interrupted) return 130;
  if (err instanceof InvalidInputError || err instanceof NotFoundError || err instanceof AlreadyExistsError) return 2;
  return 1;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let storage: Storage | undefined;
  let dkimKeys: OpenedDkimKeyStore | undefined;
  const zone: { opened?: ReturnType<typeof openDkimZone>; tried?: boolean } = {};
  try {
    const args = parseArgs(argv);
    if (wantsHelp(args)) {
      process.stdout.write(`${USAGE.join('\n')}\n`);
      return 0;
    }
    const ctx: CommandContext = {
      async storage(opts) {
        storage ??= openStorage(args.switches.has('aws'), env, opts);
        return storage;
      },
      async dkimKeys() {
        dkimKeys ??= openDkimKeys(args.switches.has('aws'), env);
        return dkimKeys.store;
      },
      dkimZone() {
        if (!zone.tried) zone.opened = openDkimZone(args.switches.has('aws'), env);
        zone.tried = true;
        return zone.opened?.zone;
      },
      readPassword: () => readPassword(args.switches.has('password-stdin')),
      async readSecret() {
        if (!args.switches.has('password-stdin'))
          throw new InvalidInputError('give the IMAP password with --password-file or --password-stdin');
        return passwordFromStdin();
      },
      env,
    };
    const lines = await runCommand(args, ctx);
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${PREFIX}${oneLine(err)}\n`);
    return exitCodeOf(err);
  } finally {
    storage?.close();
    dkimKeys?.close();
    zone.opened?.client.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
