/**
 * Which addresses an authenticated account may send as (MAIL FROM and the header From): its own address,
 * aliases that deliver to it, and plus-addresses of either. A catch-all does not count: it would let the
 * account send as every unknown local part of the domain.
 */
import { parseAddress, withoutSubaddress } from '../core/address.ts';
import type { Directory } from '../core/ports.ts';
import type { RouteResult } from '../pipeline/contracts.ts';

export interface SubmitterAccount {
  readonly accountId: string;
  readonly address: string;
}

export interface SenderIdentityDeps {
  readonly directory: Directory;
  /** The route function (follows alias chains as delivery does). */
  readonly route: (address: string) => Promise<RouteResult>;
}

export async function mayUseAddress(
  deps: SenderIdentityDeps,
  account: SubmitterAccount,
  address: string,
): Promise<boolean> {
  let parsed: ReturnType<typeof parseAddress>;
  try {
    parsed = parseAddress(address);
  } catch {
    return false;
  }
  const base = `${withoutSubaddress(parsed.local)}@${parsed.domain}`;
  // the exact address first: `a+b@d` may be an entry of its own, and then that entry decides
  for (const candidate of new Set([parsed.address, base])) {
    if (candidate === account.address) return true;
    const entry = await deps.directory.lookupAddress(candidate);
    if (!entry) continue;
    if (entry.kind === 'account') return entry.accountId === account.accountId;
    const routed = await deps.route(candidate);
    return routed.kind === 'local' && routed.accountIds.includes(account.accountId);
  }
  return false;
}
