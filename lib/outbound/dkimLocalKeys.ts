/**
 * The emulator's DKIM keys: one JSON file per domain under `<data dir>/dkim/`, the directory 0700 and the
 * files 0600 (modes set with chmod, whatever the umask). A file is replaced by writing a temporary file beside
 * it, syncing it and renaming it over the old one, so a reader (the deliver step) never sees half a file.
 * The caller passes the directory: lib/outbound reads no environment.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { keyStoreOver } from './dkimKeyStore.ts';
import type { DkimKeyAdmin } from './dkimKeys.ts';

export const KEY_DIR_MODE = 0o700;
export const KEY_FILE_MODE = 0o600;

/** The key directory inside an emulator data directory. */
export const dkimKeyDir = (dataDir: string) => join(dataDir, 'dkim');

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** How long a change waits for another process's lock, and when a lock is taken for one a crash left behind. */
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

/** Runs `change` holding `lock` (a file made with O_EXCL), so two admin commands do not lose each other's key. */
async function withLockFile<T>(lock: string, change: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', KEY_FILE_MODE)).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`DKIM keys are being changed by another process (${lock})`);
      else await delay(50);
    }
  }
  try {
    return await change();
  } finally {
    await rm(lock, { force: true });
  }
}

export function localDkimKeyStore(dir: string): DkimKeyAdmin {
  // Domains are normalised (letters, digits, '-' and '.', no leading dot) before they name a file.
  const file = (domain: string) => join(dir, `${domain}.json`);
  const ensureDir = async () => {
    await mkdir(dir, { recursive: true, mode: KEY_DIR_MODE });
    await chmod(dir, KEY_DIR_MODE);
  };
  return keyStoreOver({
    async read(domain) {
      try {
        return await readFile(file(domain), 'utf8');
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async write(domain, text) {
      await ensureDir();
      const temp = join(dir, `.${domain}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await open(temp, 'wx', KEY_FILE_MODE);
        try {
          await handle.chmod(KEY_FILE_MODE);
          await handle.writeFile(text);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file(domain));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async delete(domain) {
      await rm(file(domain), { force: true });
    },
    async exclusive(domain, change) {
      await ensureDir();
      return withLockFile(join(dir, `.${domain}.lock`), change);
    },
  });
}
