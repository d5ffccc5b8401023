import { isPostmaster, normalizeDomain, type ParsedAddress } from '../core/address.ts';
import { InvalidInputError, TemporaryError } from '../core/errors.ts';
import type { Directory } from '../core/ports.ts';
import type { RoutedAccount, RouteRequest, RouteResult } from './contracts.ts';
import { resolveEntry, tryParseAddress } from './resolve.ts';

export type { RouteRequest, RouteResult } from './contracts.ts';

/** Alias levels followed below the recipient; deeper targets are not delivered to. */
export const MAX_ALIAS_DEPTH = 8;
/** Addresses one recipient may expand to, all levels together. */
const MAX_TARGETS = 1000;

/** Splits at the last '@' and normalises the domain; undefined for a domain we could never serve (literals, junk). */
function splitDomain(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  try {
    return { local: address.slice(0, at), domain: normalizeDomain(address.slice(at + 1)) };
  } catch (err) {
    if (err instanceof InvalidInputError) return undefined;
    throw err;
  }
}

/**
 * Resolves a recipient. Relay control first: an address whose domain we do not serve (including address
 * literals such as user@[192.0.2.1]) is not-local, whatever its local part says. Then, within our domain,
 * resolveEntry: exact address, the address without its +tag, postmaster's defaults, the domain's catch-all.
 * A quoted local part is its content when that is a dot-atom (`"bob"@ours` is bob); any other local part that
 * is not a dot-atom (`"a@b"@ours`) matches nobody, and a '%' or '!' has no routing meaning: user%elsewhere@ours
 * is just an unknown (or catch-all) local address. Aliases expand level by level (bounded depth and count, loops cut); targets
 * outside our domains are returned as remote.
 *
 * Postmaster (RFC 5321 §4.5.1) must always be deliverable: when `postmaster@` a domain of ours, or the bare
 * `postmaster` (§4.1.1.3), has no account to go to yet (a domain just added), this throws a TemporaryError,
 * which SMTP answers with 451 4.3.0 so the sender retries, rather than a permanent 550 for an address that
 * must exist.
 */
export async function route(directory: Directory, req: RouteRequest): Promise<RouteResult> {
  const recipient = await withPostmasterDomain(directory, req);
  const split = splitDomain(recipient);
  if (!split) return { kind: recipient.includes('@') ? 'not-local' : 'invalid' };
  if (!(await directory.getDomain(split.domain))) return { kind: 'not-local' };
  const parsed = tryParseAddress(`${split.local}@${split.domain}`);
  if (!parsed) return { kind: 'unknown-user' };

  const { accounts, remote } = await expand(directory, parsed);
  if (accounts.length === 0 && remote.length === 0) {
    if (isPostmaster(parsed.local))
      throw new TemporaryError(`no account receives postmaster mail for ${parsed.domain} yet`);
    return { kind: 'unknown-user' };
  }
  return { kind: 'local', accounts, accountIds: accounts.map((a) => a.accountId), remote };
}

/**
 * Follows aliases breadth first, so every address is resolved at its shallowest depth whatever order the
 * targets come in; an address reached twice (a loop, or two aliases sharing a target) is resolved once.
 */
async function expand(
  directory: Directory,
  recipient: ParsedAddress,
): Promise<{ accounts: RoutedAccount[]; remote: string[] }> {
  const accounts = new Map<string, RoutedAccount>();
  const remote = new Set<string>();
  const reached = new Set<string>([recipient.address]);
  const served = new Map<string, Promise<boolean>>();
  const isServed = (domain: string) => {
    if (!served.has(domain)) served.set(domain, directory.getDomain(domain).then(Boolean));
    return served.get(domain)!;
  };
  let level: ParsedAddress[] = [recipient];
  for (let depth = 0; level.length > 0 && depth <= MAX_ALIAS_DEPTH; depth++) {
    const entries = await Promise.all(level.map((address) => resolveEntry(directory, address)));
    const next: ParsedAddress[] = [];
    for (const entry of entries) {
      if (entry?.kind === 'account' && !accounts.has(entry.accountId)) {
        const account = await directory.getAccount(entry.accountId); // undefined: removed a moment ago
        if (account)
          accounts.set(account.accountId, {
            accountId: account.accountId,
            address: account.address,
            quotaBytes: account.quotaBytes,
          });
      }
      if (entry?.kind !== 'alias') continue;
      for (const target of entry.targets) {
        const parsed = tryParseAddress(target);
        if (!parsed || reached.has(parsed.address) || reached.size >= MAX_TARGETS) continue;
        reached.add(parsed.address);
        if (await isServed(parsed.domain)) next.push(parsed);
        // a remote target sits one level below this alias: it obeys the depth limit as a local one does
        else if (depth < MAX_ALIAS_DEPTH) remote.add(parsed.address);
      }
    }
    level = next;
  }
  return { accounts: [...accounts.values()], remote: [...remote] };
}

/** The recipient, with a bare `postmaster` (RFC 5321 §4.1.1.3) made `postmaster@` the domain that answers for us. */
async function withPostmasterDomain(directory: Directory, req: RouteRequest): Promise<string> {
  const recipient = req.recipient.trim();
  if (recipient.toLowerCase() !== 'postmaster') return recipient;
  const domain = (await hostDomain(directory, req.hostname)) ?? (await firstDomain(directory));
  if (!domain) throw new TemporaryError('no domain is served yet to receive postmaster mail');
  return `postmaster@${domain}`;
}

/** The host name itself or its nearest parent domain that we serve. */
async function hostDomain(directory: Directory, hostname: string | undefined): Promise<string | undefined> {
  if (!hostname) return undefined;
  const labels = hostname.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    try {
      if (await directory.getDomain(candidate)) return candidate;
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
    }
  }
  return undefined;
}

/** The domain added first (ties by name): the primary domain of a gateway whose host name is not one of ours. */
async function firstDomain(directory: Directory): Promise<string | undefined> {
  const domains = await directory.listDomains();
  const [first] = domains.sort((a, b) => a.createdAt - b.createdAt || (a.domain < b.domain ? -1 : 1));
  return first?.domain;
}
