/**
 * What one recipient address stands for, one step at a time. Delivery (route.ts) and the admin CLI's alias loop
 * check both go through resolveEntry, so the CLI refuses exactly the loops delivery would walk into.
 */
import { isPostmaster, type ParsedAddress, parseAddress, withoutSubaddress } from '../core/address.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { AddressEntry, Directory } from '../core/ports.ts';

/** The part of the directory resolution reads. */
export type DirectoryReader = Pick<Directory, 'lookupAddress' | 'getDomain' | 'listAccounts'>;

/** Parses an address, or undefined when it is not one we could ever host (the caller skips it). */
export function tryParseAddress(input: string): ParsedAddress | undefined {
  try {
    return parseAddress(input);
  } catch (err) {
    if (err instanceof InvalidInputError) return undefined;
    throw err;
  }
}

/**
 * The entry an address of a domain we serve resolves to: the exact address, then the address without its
 * +tag, then the domain's catch-all. `postmaster` (RFC 5321 §4.5.1) always has somewhere to go: an explicit
 * entry for it wins; else the postmaster named on the domain record, the catch-all, the domain's first
 * account by creation. Undefined when nothing matches (for postmaster: the domain has no account yet).
 */
export async function resolveEntry(
  directory: DirectoryReader,
  parsed: ParsedAddress,
): Promise<AddressEntry | undefined> {
  const { local, domain, address } = parsed;
  const own = await firstEntry(directory, [address, `${withoutSubaddress(local)}@${domain}`]);
  if (own) return own;
  const postmaster = isPostmaster(local);
  const named = postmaster ? await namedPostmaster(directory, domain) : undefined;
  if (named) return named;
  const catchAll = await directory.lookupAddress(`@${domain}`);
  if (catchAll) return catchAll;
  return postmaster ? firstAccount(directory, domain) : undefined;
}

async function firstEntry(
  directory: DirectoryReader,
  candidates: readonly string[],
): Promise<AddressEntry | undefined> {
  for (const candidate of new Set(candidates)) {
    const entry = await directory.lookupAddress(candidate);
    if (entry) return entry;
  }
  return undefined;
}

/** The entry of the address the operator named as the domain's postmaster, if it exists (and is not postmaster). */
async function namedPostmaster(directory: DirectoryReader, domain: string): Promise<AddressEntry | undefined> {
  const named = (await directory.getDomain(domain))?.postmaster;
  const parsed = named ? tryParseAddress(named) : undefined;
  if (!parsed || (parsed.domain === domain && isPostmaster(parsed.local))) return undefined;
  return directory.lookupAddress(parsed.address);
}

/** The domain's oldest account (ties by address), as an address entry. */
async function firstAccount(directory: DirectoryReader, domain: string): Promise<AddressEntry | undefined> {
  const accounts = await directory.listAccounts(domain);
  const [first] = accounts.sort((a, b) => a.createdAt - b.createdAt || (a.address < b.address ? -1 : 1));
  return first && { kind: 'account', address: first.address, accountId: first.accountId };
}

/**
 * The loop adding `alias` (or replacing it) would create, as the chain of addresses from the alias back to
 * itself (`a@d -> b@d -> a@d`), or undefined. Follows targets in our domains through resolveEntry, with the new
 * alias in place; loops elsewhere in the directory that do not pass through it are not its doing.
 */
export async function findAliasLoop(
  directory: DirectoryReader,
  alias: { readonly address: string; readonly targets: readonly string[] },
): Promise<string[] | undefined> {
  const entry: AddressEntry = { kind: 'alias', address: alias.address, targets: alias.targets };
  const withAlias: DirectoryReader = {
    lookupAddress: async (address) => (address === alias.address ? entry : directory.lookupAddress(address)),
    getDomain: (domain) => directory.getDomain(domain),
    listAccounts: (domain) => directory.listAccounts(domain),
  };
  const expanded = new Set<string>([alias.address]);
  const walk = async (targets: readonly string[], path: readonly string[]): Promise<string[] | undefined> => {
    for (const target of targets) {
      const parsed = tryParseAddress(target);
      if (!parsed || !(await directory.getDomain(parsed.domain))) continue;
      const next = await resolveEntry(withAlias, parsed);
      if (next?.kind !== 'alias') continue;
      const via = next.address === parsed.address ? [...path, parsed.address] : [...path, parsed.address, next.address];
      if (next.address === alias.address) return via;
      if (expanded.has(next.address)) continue;
      expanded.add(next.address);
      const loop = await walk(next.targets, via);
      if (loop) return loop;
    }
    return undefined;
  };
  return walk(alias.targets, [alias.address]);
}
