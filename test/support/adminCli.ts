/**
 * The admin CLI as a user runs it: a child process (`node --import tsx local/admin.ts ...`) with
 * POSTERN_DATA_DIR set, and the checks every admin test makes of what it printed and how it exited.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { writeEmulatorState } from '../../local/state.ts';
import { freshNames } from './storage.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AdminOptions {
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** Everything printed is added here, so a test can check that no secret ever shows up. */
  readonly printed?: string[];
}

export function runAdmin(args: readonly string[], opts: AdminOptions): Promise<Run> {
  return new Promise<Run>((done, fail) => {
    const env: NodeJS.ProcessEnv = { ...process.env, POSTERN_DATA_DIR: opts.dataDir, ...opts.env };
    for (const name of ['POSTERN_ADMIN_TARGET', 'POSTERN_HOSTNAME']) if (!opts.env?.[name]) delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/admin.ts', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`admin ${args.join(' ')} did not exit within 30 s`));
    }, 30_000);
    child.stdin.on('error', () => {}); // the CLI may exit before reading its input
    child.stdin.end(opts.input ?? '');
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.printed?.push(stdout, stderr);
      done({ code, stdout, stderr });
    });
  });
}

/** A failure: exit 2 and exactly one line on stderr starting `postern-admin: `, nothing on stdout. */
export function assertInputError(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^postern-admin: [^\n]+\n$/);
  assert.match(run.stderr, pattern);
}

export function assertOk(run: Run): string[] {
  assert.equal(run.code, 0, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stderr, '');
  return run.stdout === '' ? [] : run.stdout.replace(/\n$/, '').split('\n');
}

/** What the CLI takes for a running emulator: a state file in a fresh data directory, pointing at test storage. */
export interface AdminEmulator {
  readonly dataDir: string;
  /** The fresh table prefix (POSTERN_TABLE_PREFIX for --aws runs against the same tables). */
  readonly prefix: string;
  /** The same storage, for checking what the CLI wrote. */
  readonly storage: Storage;
  close(): void;
}

export async function adminEmulator(endpoints: AwsEndpoints, tmpName: string): Promise<AdminEmulator> {
  const names = await freshNames(endpoints);
  const prefix = names.tables.directory.replace(/-directory$/, '');
  const storage = createAwsStorage({ endpoints, names });
  const dataDir = mkdtempSync(join(tmpdir(), tmpName));
  writeEmulatorState(dataDir, {
    pid: process.pid,
    endpoints,
    tablePrefix: prefix,
    startedAt: new Date().toISOString(),
  });
  return {
    dataDir,
    prefix,
    storage,
    close() {
      storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
