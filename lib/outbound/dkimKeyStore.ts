/**
 * The DKIM key store over one document per domain (a JSON list of its keys): the local files and the Secrets
 * Manager secrets differ only in where that document lives (DkimKeyDocuments). A document holds a handful of
 * keys, so every change reads and rewrites it whole.
 */
import { normalizeDomain } from '../core/address.ts';
import type { DkimAlgorithm, DkimPrivateKey } from '../core/outbound.ts';
import { currentKeys, type DkimKeyAdmin, newestFirst, publicPart } from './dkimKeys.ts';

/** Where the per-domain documents are kept; `domain` is already normalised (lower case A-labels). */
export interface DkimKeyDocuments {
  /** The document's text, or undefined when the domain has none. */
  read(domain: string): Promise<string | undefined>;
  /** Replaces the document whole (atomically: a reader sees the old or the new one). */
  write(domain: string, text: string): Promise<void>;
  delete(domain: string): Promise<void>;
  /** Runs a read-modify-write of the domain's document alone, where the place can lock (local files). */
  exclusive?<T>(domain: string, change: () => Promise<T>): Promise<T>;
}

interface KeyDocument {
  readonly version: 1;
  readonly keys: readonly DkimPrivateKey[];
}

const ALGORITHMS: ReadonlySet<DkimAlgorithm> = new Set(['rsa-sha256', 'ed25519-sha256']);

function isKey(value: unknown, domain: string): value is DkimPrivateKey {
  const k = value as Partial<DkimPrivateKey> | null;
  return (
    typeof k === 'object' &&
    k !== null &&
    k.domain === domain &&
    typeof k.selector === 'string' &&
    ALGORITHMS.has(k.algorithm as DkimAlgorithm) &&
    typeof k.createdAt === 'number' &&
    typeof k.publicKey === 'string' &&
    typeof k.privateKeyPem === 'string'
  );
}

/** The keys in a document; one that is not ours is an error, never taken for "no keys" (mail would go unsigned). */
function parseDocument(text: string, domain: string): DkimPrivateKey[] {
  const doc = JSON.parse(text) as Partial<KeyDocument>;
  if (doc?.version !== 1 || !Array.isArray(doc.keys) || !doc.keys.every((k) => isKey(k, domain))) {
    throw new Error(`DKIM key document of ${domain} is malformed`);
  }
  return [...doc.keys];
}

const formatDocument = (keys: readonly DkimPrivateKey[]) =>
  `${JSON.stringify({ version: 1, keys } satisfies KeyDocument, null, 2)}\n`;

export function keyStoreOver(documents: DkimKeyDocuments): DkimKeyAdmin {
  const keysOf = async (domain: string) => {
    const text = await documents.read(domain);
    return text === undefined ? [] : parseDocument(text, domain);
  };
  const alone = <T>(domain: string, change: () => Promise<T>) =>
    documents.exclusive ? documents.exclusive(domain, change) : change();
  return {
    async signingKeys(input) {
      return currentKeys(await keysOf(normalizeDomain(input)));
    },
    async list(input) {
      return newestFirst(await keysOf(normalizeDomain(input))).map(publicPart);
    },
    async add(key) {
      const domain = normalizeDomain(key.domain);
      await alone(domain, async () => {
        const keys = await keysOf(domain);
        if (keys.some((k) => k.selector === key.selector)) {
          throw new Error(`DKIM selector ${key.selector} of ${domain} already exists`);
        }
        await documents.write(domain, formatDocument([...keys, { ...key, domain }]));
      });
    },
    async removeKey(input, selector) {
      const domain = normalizeDomain(input);
      return alone(domain, async () => {
        const keys = await keysOf(domain);
        const kept = keys.filter((k) => k.selector !== selector);
        if (kept.length === keys.length) return false;
        if (kept.length === 0) await documents.delete(domain);
        else await documents.write(domain, formatDocument(kept));
        return true;
      });
    },
    async removeDomain(input) {
      await documents.delete(normalizeDomain(input));
    },
  };
}
