import { normalizeDomain, parseAddress, withoutSubaddress } from '../core/address.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Directory } from '../core/ports.ts';
import type { RoutedAccount, RouteRequest, RouteResult } from './contracts.ts';

export type { RouteRequest, RouteResult } from './contracts.ts';

const MAX_ALIAS_DEPTH = 8;
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
 * literals such as user@[192.0.2.1]) is not-local, whatever its local part says. Then, within our domain:
 * exact address, the address without its +tag, the domain's catch-all. A local part that is not a plain
 * dot-atom (quoted strings, '@' inside) never matches a user, and a '%' or '!' in it has no routing meaning:
 * user%elsewhere@ours is just an unknown (or catch-all) local address. Aliases expand recursively (bounded,
 * loops ignored); targets outside our domains are returned as remote.
 */
export async function route(directory: Directory, req: RouteRequest): Promise<RouteResult> {
  let recipient = req.recipient.trim();
  if (recipient.toLowerCase() === 'postmaster') {
    const domain = await postmasterDomain(directory, req.hostname);
    if (!domain) return { kind: 'unknown-user' };
    recipient = `postmaster@${domain}`;
  }
  const split = splitDomain(recipient);
  if (!split) return { kind: recipient.includes('@') ? 'not-local' : 'invalid' };
  if (!(await directory.getDomain(split.domain))) return { kind: 'not-local' };
  let parsed: ReturnType<typeof parseAddress>;
  try {
    parsed = parseAddress(`${split.local}@${split.domain}`);
  } catch (err) {
    if (err instanceof InvalidInputError) return { kind: 'unknown-user' };
    throw err;
  }

  const accounts = new Map<string, RoutedAccount>();
  const remote = new Set<string>();
  const seen = new Set<string>();

  const expand = async (address: string, depth: number): Promise<boolean> => {
    if (seen.has(address) || depth > MAX_ALIAS_DEPTH || seen.size > MAX_TARGETS) return false;
    seen.add(address);
    const { local, domain } = parseAddress(address);
    const candidates = [address, `${withoutSubaddress(local)}@${domain}`, `@${domain}`];
    for (const candidate of [...new Set(candidates)]) {
      const entry = await directory.lookupAddress(candidate);
      if (!entry) continue;
      if (entry.kind === 'account') {
        if (!accounts.has(entry.accountId)) {
          const account = await directory.getAccount(entry.accountId);
          if (!account) return false;
          accounts.set(entry.accountId, {
            accountId: entry.accountId,
            address: account.address,
            quotaBytes: account.quotaBytes,
          });
        }
        return true;
      }
      let any = false;
      for (const target of entry.targets) {
        let targetAddress: ReturnType<typeof parseAddress>;
        try {
          targetAddress = parseAddress(target);
        } catch {
          continue;
        }
        if (await directory.getDomain(targetAddress.domain))
          any = (await expand(targetAddress.address, depth + 1)) || any;
        else {
          remote.add(targetAddress.address);
          any = true;
        }
      }
      return any;
    }
    return false;
  };

  if (!(await expand(parsed.address, 0))) return { kind: 'unknown-user' };
  const list = [...accounts.values()];
  return { kind: 'local', accounts: list, accountIds: list.map((a) => a.accountId), remote: [...remote] };
}

/** For a bare `postmaster`: the host name itself or its nearest parent domain that we serve. */
async function postmasterDomain(directory: Directory, hostname: string | undefined): Promise<string | undefined> {
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
