/** The emulator's S3 key pair: random on first start, then kept in a private file of its data directory. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../private.ts';
import type { Credentials } from './auth.ts';

function saved(file: string): Credentials | undefined {
  try {
    const { accessKeyId, secretAccessKey } = JSON.parse(readFileSync(file, 'utf8'));
    const valid =
      typeof accessKeyId === 'string' && accessKeyId && typeof secretAccessKey === 'string' && secretAccessKey;
    return valid ? { accessKeyId, secretAccessKey } : undefined;
  } catch {
    return undefined; // damaged: make new ones (they are handed to every client at start anyway)
  }
}

export function loadOrCreateCredentials(dir: string): Credentials {
  ensurePrivateDir(dir);
  const file = join(dir, 'credentials.json');
  const credentials = (existsSync(file) && saved(file)) || {
    accessKeyId: `PSTN${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  writePrivateFile(file, JSON.stringify(credentials)); // also repairs the mode of an existing file
  return credentials;
}
