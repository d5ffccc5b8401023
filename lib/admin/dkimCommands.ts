/**
 * The admin CLI's DKIM commands: the first key pair of a new domain, rotation, listing, retiring a selector and
 * the TXT records to publish. Private keys stay in the key store: nothing here prints them.
 */
import { normalizeDomain } from '../core/address.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import type { DkimKey } from '../core/outbound.ts';
import type { Directory } from '../core/ports.ts';
import { currentKeys, type DkimKeyAdmin, generateKeySet } from '../outbound/dkimKeys.ts';

export interface DkimCommandDeps {
  readonly directory: Directory;
  readonly keys: DkimKeyAdmin;
  readonly now?: () => number;
}

async function requireDomain(directory: Directory, input: string): Promise<string> {
  const domain = normalizeDomain(input);
  if (!(await directory.getDomain(domain))) throw new NotFoundError(`unknown domain ${domain}`);
  return domain;
}

const describeKeys = (keys: readonly DkimKey[]) => keys.map((k) => `${k.selector} (${k.algorithm})`).join(', ');

/** Adds a new pair of each algorithm; they sign from now on, the older keys stay until retired. */
async function addKeySet(deps: DkimCommandDeps, domain: string): Promise<DkimKey[]> {
  const set = generateKeySet(domain, await deps.keys.list(domain), (deps.now ?? Date.now)());
  for (const key of set) await deps.keys.add(key);
  return set;
}

/** For `domain add`: the domain's first keys, unless it already has some (left from before; they are kept). */
export async function dkimKeysForNewDomain(deps: DkimCommandDeps, domain: string): Promise<string[]> {
  const existing = await deps.keys.list(domain);
  if (existing.length > 0) return [`kept its DKIM keys ${describeKeys(currentKeys(existing))}`];
  try {
    const set = await addKeySet(deps, domain);
    return [`added DKIM keys ${describeKeys(set)}; publish them: npm run admin -- dns ${domain}`];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `domain ${domain} added, but its DKIM keys could not be stored (${reason}); run dkim rotate ${domain}`,
    );
  }
}

export async function dkimRotate(deps: DkimCommandDeps, input: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const set = await addKeySet(deps, domain);
  return [
    `added DKIM keys ${describeKeys(set)} for ${domain}; they sign from now on`,
    `publish their records (npm run admin -- dns ${domain}); keep the older ones until mail signed with them has been delivered, then dkim retire`,
  ];
}

export async function dkimList(deps: DkimCommandDeps, input: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const keys = await deps.keys.list(domain);
  const signing = new Set(currentKeys(keys).map((k) => k.selector));
  const width = Math.max(0, ...keys.map((k) => k.selector.length));
  return keys.map(
    (k) =>
      `${k.selector.padEnd(width)}  ${k.algorithm.padEnd(14)}  ${new Date(k.createdAt).toISOString()}  ${signing.has(k.selector) ? 'signing' : 'published'}`,
  );
}

/** Deletes a key that no longer signs; its TXT record can go from DNS afterwards. */
export async function dkimRetire(deps: DkimCommandDeps, input: string, selector: string): Promise<string[]> {
  const domain = await requireDomain(deps.directory, input);
  const keys = await deps.keys.list(domain);
  if (!keys.some((k) => k.selector === selector)) throw new NotFoundError(`${domain} has no DKIM key ${selector}`);
  if (currentKeys(keys).some((k) => k.selector === selector)) {
    throw new InvalidInputError(`${selector} signs mail of ${domain} now; dkim rotate first`);
  }
  await deps.keys.removeKey(domain, selector);
  return [`retired DKIM key ${selector} of ${domain}; remove ${selector}._domainkey.${domain}. from DNS`];
}
