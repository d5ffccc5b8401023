import { argon2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing. New hashes are argon2id (RFC 9106) in the PHC string format
 * `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>` (base64 without padding), the format other
 * argon2 libraries read. The cost is OWASP's Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2,
 * p=1 (about 30-40 ms on one core of the gateway; memory, not time, is what makes GPU guessing expensive).
 * Older `scrypt$N$r$p$salt$hash` hashes (N=16384, r=8, p=1) still verify; `needsRehash` tells the caller to
 * store a new hash after a successful login, so accounts move to the current parameters as they log in.
 *
 * The parameters are read from the stored hash, within bounds: a corrupt or hostile entry cannot make one
 * verification take gigabytes or minutes.
 */
/**
 * Shortest password the admin CLI accepts without --allow-weak-password. NIST SP 800-63B-4 §3.1.1.2: a
 * password that is the only authentication factor SHALL be at least 15 characters (8 only as part of MFA);
 * mail logins are single-factor. No composition rules (the same section forbids them).
 */
export const MIN_PASSWORD_LENGTH = 15;

/** Length as NIST counts it: Unicode code points, after the NFC normalisation hashing applies. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFC')].length;
}

export const ARGON2_PARAMETERS = { memoryKiB: 19 * 1024, passes: 2, parallelism: 1 } as const;

const ARGON2_VERSION = 19; // 0x13, the only version RFC 9106 defines
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MAX_ARGON2_MEMORY_KIB = 256 * 1024;
const MAX_ARGON2_PASSES = 16;
const MAX_ARGON2_LANES = 16;
const MAX_SCRYPT_N = 1 << 20;

/** The hashing the authenticator and the admin CLI use; an interface so tests can count or stub it. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /** True when `stored` is not argon2id with the current parameters (store a new hash after a login). */
  needsRehash(stored: string): boolean;
}

interface Argon2Hash {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');
const isCount = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;

function deriveArgon2(password: string, h: Omit<Argon2Hash, 'key'>, length: number): Promise<Buffer> {
  const parameters = {
    message: password.normalize('NFC'),
    nonce: h.salt,
    memory: h.memoryKiB,
    passes: h.passes,
    parallelism: h.parallelism,
    tagLength: length,
  };
  return new Promise((resolve, reject) => {
    argon2('argon2id', parameters, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function deriveScrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `$argon2id$v=19$m=..,t=..,p=..$salt$hash`, or undefined when it is not one we accept. */
function parseArgon2(stored: string): Argon2Hash | undefined {
  const m = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m || Number(m[1]) !== ARGON2_VERSION) return undefined;
  const [memoryKiB, passes, parallelism] = [m[2], m[3], m[4]].map(Number);
  if (!isCount(parallelism, MAX_ARGON2_LANES) || !isCount(passes, MAX_ARGON2_PASSES)) return undefined;
  if (!isCount(memoryKiB, MAX_ARGON2_MEMORY_KIB) || memoryKiB < 8 * parallelism) return undefined;
  const salt = Buffer.from(m[5], 'base64');
  const key = Buffer.from(m[6], 'base64');
  if (salt.length < 8 || key.length < 4) return undefined;
  return { memoryKiB, passes, parallelism, salt, key };
}

export async function hashPassword(password: string): Promise<string> {
  const p = ARGON2_PARAMETERS;
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveArgon2(password, { ...p, salt }, KEY_BYTES);
  return `$argon2id$v=${ARGON2_VERSION}$m=${p.memoryKiB},t=${p.passes},p=${p.parallelism}$${b64(salt)}$${b64(key)}`;
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6) return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > MAX_SCRYPT_N) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await deriveScrypt(password, Buffer.from(parts[4], 'base64'), n, r, p);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Checks a password against an argon2id or legacy scrypt hash; false for anything unreadable. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (stored.startsWith('scrypt$')) return verifyScrypt(password, stored);
  const parsed = parseArgon2(stored);
  if (!parsed) return false;
  const actual = await deriveArgon2(password, parsed, parsed.key.length);
  return timingSafeEqual(actual, parsed.key);
}

export function needsRehash(stored: string): boolean {
  const parsed = parseArgon2(stored);
  const p = ARGON2_PARAMETERS;
  return (
    !parsed ||
    parsed.memoryKiB !== p.memoryKiB ||
    parsed.passes !== p.passes ||
    parsed.parallelism !== p.parallelism ||
    parsed.key.length !== KEY_BYTES
  );
}

export const passwordHasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword, needsRehash };
