import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The emulator's data directory holds password hashes, the TLS key and the demo password: only its owner may
 * read it. Modes are set with chmod, not left to mkdir/open (the umask may widen them, and neither changes a
 * file that already exists), so a data directory made by an older version is repaired too.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `dir` (and any missing parents) and sets `dir` itself to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Writes `file` readable by its owner only, whether it is new or not. */
export function writePrivateFile(file: string, data: string): void {
  writeFileSync(file, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Sets every directory under `dir` (itself included) to 0700 and every file to 0600; `deep: false` stops at its entries. */
export function makePrivate(dir: string, { deep = true } = {}): void {
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Dirents do not follow symlinks: a link is neither a directory nor a file here, and is left alone.
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (deep) makePrivate(path);
      else chmodSync(path, PRIVATE_DIR_MODE);
    } else if (entry.isFile()) chmodSync(path, PRIVATE_FILE_MODE);
  }
}
