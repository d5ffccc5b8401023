/**
 * MTA-STS (RFC 8461) for the MX transport. A policy source says which policy a domain has now; under
 * `enforce` only MX hosts matching the policy's `mx` patterns are used, and only over STARTTLS with a
 * certificate valid for the MX name (§4.1, §4.2, §5.1); `testing` and `none` change nothing (we do not send
 * TLSRPT reports). The production source is mailauth's getPolicy (TXT `_mta-sts.<domain>`, then the HTTPS
 * policy file), through the injectable resolver, with the policies cached in this process until they expire
 * (§3.3: a cached, unexpired policy still applies when the lookup fails). Tests inject a source of their own.
 */
import type { MTASTSPolicy } from 'mailauth';
import { getPolicy, validateMx } from 'mailauth/lib/mta-sts.js';
import type { Resolver } from '../../pipeline/dns.ts';

export interface MtaStsPolicy {
  readonly mode: 'enforce' | 'testing' | 'none';
  /** Allowed MX names; `*.example.org` matches one left-most label. */
  readonly mx: readonly string[];
}

/** The policy that applies to the domain now; undefined when it has none. */
export type MtaStsSource = (domain: string) => Promise<MtaStsPolicy | undefined>;

export function mxMatchesPolicy(mx: string, policy: MtaStsPolicy): boolean {
  return validateMx(mx, { mode: policy.mode, mx: [...policy.mx] }).valid;
}

export interface MailauthMtaStsOptions {
  readonly resolver: Resolver;
  /** Bound of the HTTPS policy fetch; RFC 8461 §3.3 suggests a minute. */
  readonly timeoutMs?: number;
  /** Most domains cached at once (oldest dropped first), so the cache stays bounded. */
  readonly maxCached?: number;
}

/** mailauth's getPolicy with an in-process cache of the policies it returned. */
export function mailauthMtaSts(options: MailauthMtaStsOptions): MtaStsSource {
  const cache = new Map<string, MTASTSPolicy>();
  const maxCached = options.maxCached ?? 10_000;
  return async (domain) => {
    const known = cache.get(domain);
    const { policy } = await getPolicy(domain, known ?? null, {
      resolver: options.resolver as never,
      timeout: options.timeoutMs ?? 60_000,
    });
    cache.delete(domain);
    cache.set(domain, policy);
    if (cache.size > maxCached) cache.delete(cache.keys().next().value as string);
    if (policy.mode === 'none') return undefined;
    return { mode: policy.mode, mx: policy.mx ?? [] };
  };
}
