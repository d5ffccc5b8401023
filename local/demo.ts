import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../lib/core/password.ts';
import type { Storage } from '../lib/core/ports.ts';
import { generateKeySet } from '../lib/outbound/dkimKeys.ts';
import { dkimKeyDir, localDkimKeyStore } from '../lib/outbound/dkimLocalKeys.ts';
import { writePrivateFile } from './private.ts';

export const DEMO_DOMAIN = 'postern.test';
export const DEMO_ADDRESS = `demo@${DEMO_DOMAIN}`;

/**
 * The demo domain and account, made on first start with a random password kept in the data directory
 * (mode 0600) so it can be printed at every start. Admins delete it like any account.
 */
export async function ensureDemoAccount(
  storage: Storage,
  dataDir: string,
): Promise<{ address: string; password: string }> {
  const file = join(dataDir, 'demo-account.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  // 16 characters: above the admin CLI's minimum (15, NIST SP 800-63B-4 for a single factor)
  const password = randomBytes(12).toString('base64url');
  if (!(await storage.directory.getDomain(DEMO_DOMAIN))) await storage.directory.addDomain(DEMO_DOMAIN);
  let account = await storage.directory.getAccountByAddress(DEMO_ADDRESS);
  if (account) await storage.directory.setPasswordHash(DEMO_ADDRESS, await hashPassword(password));
  else
    account = await storage.directory.addAccount({ address: DEMO_ADDRESS, passwordHash: await hashPassword(password) });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  await ensureDemoDkimKeys(dataDir);
  const demo = { address: DEMO_ADDRESS, password };
  writePrivateFile(file, `${JSON.stringify(demo)}\n`);
  return demo;
}

/** The demo domain signs its outgoing mail like any domain `admin domain add` made. */
async function ensureDemoDkimKeys(dataDir: string): Promise<void> {
  const keys = localDkimKeyStore(dkimKeyDir(dataDir));
  const existing = await keys.list(DEMO_DOMAIN);
  if (existing.length > 0) return;
  for (const key of generateKeySet(DEMO_DOMAIN, existing, Date.now())) await keys.add(key);
}
