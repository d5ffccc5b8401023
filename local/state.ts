import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AwsEndpoints } from '../lib/core/config.ts';
import type { GatewayState } from './gateways.ts';
import { ensurePrivateDir, makePrivate, writePrivateFile } from './private.ts';

/**
 * What a running emulator publishes in its data directory, so the admin CLI and tests can find its
 * storage endpoints without being told (`POSTERN_DATA_DIR` is the only thing they share). The endpoints include
 * the S3 stand-in's key pair, so the file is private.
 */
export interface EmulatorState {
  readonly pid: number;
  readonly endpoints: AwsEndpoints;
  /** Table prefix; names come from namesWithPrefix(prefix). */
  readonly tablePrefix: string;
  readonly startedAt: string;
  /** One entry per gateway process that said ready (gateway 1 first): its pid and ports by listener name. */
  readonly gateways?: readonly GatewayState[];
}

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.POSTERN_DATA_DIR || '.data');
}

/**
 * Makes the data directory private (0700) and repairs what an older version left at its top level; tls/,
 * dynamodb/ and s3/ are repaired inside by the code that writes them.
 */
export function prepareDataDir(dataDir: string): void {
  ensurePrivateDir(dataDir);
  makePrivate(dataDir, { deep: false });
}

const stateFile = (dataDir: string) => join(dataDir, 'emulator.json');

export function writeEmulatorState(dataDir: string, state: EmulatorState): void {
  writePrivateFile(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** The running emulator's state, or undefined when none is running for this data directory. */
export function readEmulatorState(dataDir: string): EmulatorState | undefined {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as EmulatorState;
  try {
    process.kill(state.pid, 0);
  } catch {
    return undefined;
  }
  return state;
}
