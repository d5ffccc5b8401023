/** Files of the S3 stand-in's data: created 0600 (local/private.ts has the directories), written via temp files. */
import { randomUUID } from 'node:crypto';
import { open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PRIVATE_FILE_MODE } from '../private.ts';

export function isErrno(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}

export async function discard(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** Streams `source` into a new temp file in `dir`, from offset `start`; returns its path. Nothing is left on failure. */
export async function spoolToTemp(dir: string, source: AsyncIterable<Buffer>, start = 0): Promise<string> {
  const tmpPath = join(dir, `.tmp-${randomUUID()}`);
  const fh = await open(tmpPath, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.chmod(PRIVATE_FILE_MODE); // exactly, whatever the umask
    await pipeline(source, fh.createWriteStream({ start }));
  } catch (err) {
    await fh.close().catch(() => undefined);
    await discard(tmpPath);
    throw err;
  }
  return tmpPath;
}

export async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((err) => (isErrno(err, 'ENOENT') ? [] : Promise.reject(err)));
}
