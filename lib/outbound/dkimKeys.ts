/**
 * DKIM key pairs (RFC 6376 with RSA, RFC 8463 with Ed25519): generation with node:crypto, selector names, the
 * `p=` value and the `<selector>._domainkey` TXT record. A domain signs with its newest key of each algorithm,
 * so a rotation adds a pair and leaves the older one published until it is retired.
 */
import { generateKeyPairSync } from 'node:crypto';
import { InvalidInputError } from '../core/errors.ts';
import type { DkimAlgorithm, DkimKey, DkimKeyStore, DkimPrivateKey } from '../core/outbound.ts';

/** RFC 8301 §3.2: at least 1024 bits, and signers SHOULD use 2048. */
export const RSA_MODULUS_BITS = 2048;

/** The algorithms a new key set holds, RSA first: every verifier knows RSA, Ed25519 only the newer ones. */
export const KEY_SET_ALGORITHMS: readonly DkimAlgorithm[] = ['rsa-sha256', 'ed25519-sha256'];

/** A key store that can also drop one key (`admin dkim retire`), once its selector has left DNS. */
export interface DkimKeyAdmin extends DkimKeyStore {
  /** Deletes one key of the domain; false when it has none of that selector. */
  removeKey(domain: string, selector: string): Promise<boolean>;
}

const ALGORITHM_LETTER: Readonly<Record<DkimAlgorithm, string>> = { 'rsa-sha256': 'r', 'ed25519-sha256': 'e' };
/** Most key pairs of one algorithm made in one month (`p202612r`, then `p202612r02` ... `p202612r99`). */
const MAX_PER_MONTH = 99;

/**
 * A new selector: `p<yyyymm><r|e>`, then `p<yyyymm><r|e>NN` from the second pair of that month on. The names
 * sort by creation (the suffix has two digits) and never repeat one still in `taken`.
 */
export function newSelector(algorithm: DkimAlgorithm, now: number, taken: ReadonlySet<string>): string {
  const date = new Date(now);
  const month = `${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
  const base = `p${month}${ALGORITHM_LETTER[algorithm]}`;
  if (!taken.has(base)) return base;
  for (let n = 2; n <= MAX_PER_MONTH; n++) {
    const name = `${base}${String(n).padStart(2, '0')}`;
    if (!taken.has(name)) return name;
  }
  throw new InvalidInputError(`too many DKIM keys made in ${month}: retire some first`);
}

/** The `p=` value: RSA the base64 DER SubjectPublicKeyInfo (RFC 6376 §3.6.1), Ed25519 the raw 32 octets (RFC 8463 §4.2). */
function publicKeyValue(algorithm: DkimAlgorithm, publicKey: import('node:crypto').KeyObject): string {
  if (algorithm === 'rsa-sha256') return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

export function generateDkimKey(
  domain: string,
  algorithm: DkimAlgorithm,
  selector: string,
  now: number,
): DkimPrivateKey {
  const pair =
    algorithm === 'rsa-sha256'
      ? generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_BITS })
      : generateKeyPairSync('ed25519');
  return {
    domain,
    selector,
    algorithm,
    createdAt: now,
    publicKey: publicKeyValue(algorithm, pair.publicKey),
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A new pair of each algorithm for the domain, with selectors unused among `existing`. */
export function generateKeySet(domain: string, existing: readonly DkimKey[], now: number): DkimPrivateKey[] {
  const taken = new Set(existing.map((k) => k.selector));
  return KEY_SET_ALGORITHMS.map((algorithm) =>
    generateDkimKey(domain, algorithm, newSelector(algorithm, now, taken), now),
  );
}

/** Newest first; the selector breaks a tie (two keys made in the same millisecond). */
export function newestFirst<K extends DkimKey>(keys: readonly K[]): K[] {
  return [...keys].sort((a, b) => b.createdAt - a.createdAt || (a.selector < b.selector ? 1 : -1));
}

/** The keys a domain signs with: its newest of each algorithm. */
export function currentKeys<K extends DkimKey>(keys: readonly K[]): K[] {
  const seen = new Set<DkimAlgorithm>();
  return newestFirst(keys).filter((k) => !seen.has(k.algorithm) && seen.add(k.algorithm));
}

/** Drops the private part: what `list` gives out. */
export function publicPart({ domain, selector, algorithm, createdAt, publicKey }: DkimKey): DkimKey {
  return { domain, selector, algorithm, createdAt, publicKey };
}

/** The owner name of a key's TXT record, with the trailing dot. */
export const dkimRecordName = (key: DkimKey) => `${key.selector}._domainkey.${key.domain}.`;

/** The TXT record's text (RFC 6376 §3.6.1; `k=ed25519` from RFC 8463 §4.2). */
export const dkimRecordText = (key: DkimKey) =>
  `v=DKIM1; k=${key.algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519'}; p=${key.publicKey}`;

/** Longest character-string in a TXT record (RFC 1035 §3.3: a length octet, so 255). */
const TXT_STRING_MAX = 255;

/** TXT data in zone-file form: the text cut into quoted strings of at most 255 octets (RFC 6376 §3.6.2.2). */
export function txtStrings(text: string): string {
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += TXT_STRING_MAX) parts.push(text.slice(at, at + TXT_STRING_MAX));
  return parts.map((p) => `"${p.replace(/["\\]/g, '\\$&')}"`).join(' ');
}
