import { parseAddress, withoutSubaddress } from '../core/address.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Directory } from '../core/ports.ts';

/** The route function's contract (a Lambda event, so plain JSON). */
export interface RouteRequest {
  readonly recipient: string;
}

export type RouteResult =
  /** Deliver to these local accounts (an alias may fan out to several). */
  | { readonly kind: 'local'; readonly accountIds: readonly string[]; readonly remote: readonly string[] }
  /** The domain is ours but nobody has this address. */
  | { readonly kind: 'unknown-user' }
  /** The domain is not ours. */
  | { readonly kind: 'not-local' }
  /** Not a usable address at all. */
  | { readonly kind: 'invalid' };

const MAX_ALIAS_DEPTH = 8;

/**
 * Resolves a recipient: exact address, then the address without its +tag, then the domain's catch-all.
 * Aliases expand recursively (bounded, loops ignored); targets outside our domains are returned as remote.
 */
export async function route(directory: Directory, req: RouteRequest): Promise<RouteResult> {
  let parsed: ReturnType<typeof parseAddress>;
  try {
    parsed = parseAddress(req.recipient);
  } catch (err) {
    if (err instanceof InvalidInputError) return { kind: 'invalid' };
    throw err;
  }
  if (!(await directory.getDomain(parsed.domain))) return { kind: 'not-local' };
  const accountIds = new Set<string>();
  const remote = new Set<string>();
  const seen = new Set<string>();

  const expand = async (address: string, depth: number): Promise<boolean> => {
    if (seen.has(address) || depth > MAX_ALIAS_DEPTH) return false;
    seen.add(address);
    const { local, domain } = parseAddress(address);
    const candidates = [address, `${withoutSubaddress(local)}@${domain}`, `@${domain}`];
    for (const candidate of [...new Set(candidates)]) {
      const entry = await directory.lookupAddress(candidate);
      if (!entry) continue;
      if (entry.kind === 'account') {
        accountIds.add(entry.accountId);
        return true;
      }
      let any = false;
      for (const target of entry.targets) {
        const targetDomain = parseAddress(target).domain;
        if (await directory.getDomain(targetDomain)) any = (await expand(target, depth + 1)) || any;
        else {
          remote.add(target);
          any = true;
        }
      }
      return any;
    }
    return false;
  };

  if (!(await expand(parsed.address, 0))) return { kind: 'unknown-user' };
  return { kind: 'local', accountIds: [...accountIds], remote: [...remote] };
}
