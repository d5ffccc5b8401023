import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from './private.ts';

/**
 * The emulator's SRS key (forwarding to remote alias targets), made on first start and kept in the data
 * directory (0600), so bounces to addresses rewritten before a restart still validate. POSTERN_SRS_SECRET, when
 * set, wins.
 */
export function ensureSrsKey(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.POSTERN_SRS_SECRET) return env.POSTERN_SRS_SECRET;
  const file = join(dataDir, 'srs-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(24).toString('base64url');
  writePrivateFile(file, `${key}\n`);
  return key;
}
