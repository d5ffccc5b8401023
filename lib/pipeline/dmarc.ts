/**
 * What the author domain's DMARC record asks of a message that fails (RFC 9989), read from mailauth's result.
 *
 * mailauth (7+) applies the record's own rules: the DNS Tree Walk finds the record (the author domain's,
 * else its Organizational Domain's, else a PSD's) and the Organizational Domains for relaxed alignment;
 * `adkim=s` / `aspf=s` demand identical domains; an inherited record gives `sp` for an existing subdomain and
 * `np` for a non-existent one, both falling back to `p` (§4.10.1); and `t=y` asks for one level below the
 * published policy (§4.7: reject → quarantine, quarantine → none).
 *
 * What mailauth leaves to us is `pct`, which RFC 9989 dropped and mailauth ignores. Appendix A.6 makes
 * `t=y` and `t=n` the analogues of `pct=0` and `pct=100`, so a record without a `t` tag whose `pct` is below
 * 100 is read as a testing record (one level lower). For 1–99 that is the choice RFC 7489 §6.6.4 already
 * allowed for every message not sampled, and unlike sampling it gives a retry of the same message the
 * same verdict. A `t` tag, when present, wins over `pct`.
 */
import type { DMARCResult } from 'mailauth';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcVerdict {
  /** pass, fail, none, temperror (mailauth's status.result). */
  readonly result: string;
  /** The policy that applies after sp/np, t=y and legacy pct; undefined when no record applies. */
  readonly policy?: DmarcPolicy;
  /** The policy mailauth evaluated (after sp/np and t=y, before legacy pct), as its header reports it. */
  readonly evaluated?: DmarcPolicy;
  /** Where the applied record was published (the DMARC Policy Domain, RFC 9989 §3.2.5). */
  readonly domain?: string;
  /** Whether the record is in testing mode (t=y, or legacy pct < 100). */
  readonly testing: boolean;
  /** What to do with the message: only a fail is acted on. */
  readonly disposition: DmarcPolicy;
}

const ONE_LEVEL_LOWER: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };
const POLICIES = new Set<string>(['none', 'quarantine', 'reject']);

/** The value of one tag of a DMARC record (tag names case-folded, as mailauth's default parsing does). */
function tagOf(record: string, name: string): string | undefined {
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === name)
      return part
        .slice(eq + 1)
        .trim()
        .toLowerCase();
  }
  return undefined;
}

/** Whether a record without a valid `t` tag asks, through a valid legacy `pct` below 100, for less than all. */
function legacyTesting(record: string): boolean {
  const t = tagOf(record, 't');
  if (t === 'y' || t === 'n') return false;
  const pct = tagOf(record, 'pct');
  return pct !== undefined && /^\d{1,3}$/.test(pct) && Number(pct) < 100;
}

export function dmarcVerdict(dmarc: DMARCResult | false | undefined): DmarcVerdict {
  if (!dmarc) return { result: 'none', testing: false, disposition: 'none' };
  const result = (dmarc.status?.result ?? 'none').toLowerCase();
  const published = dmarc.policy?.toLowerCase();
  if (!published || !POLICIES.has(published)) return { result, testing: false, disposition: 'none' };
  const evaluated = published as DmarcPolicy;
  const legacy = !dmarc.testMode && legacyTesting(dmarc.rr ?? '');
  const policy = legacy ? ONE_LEVEL_LOWER[evaluated] : evaluated;
  return {
    result,
    policy,
    evaluated,
    domain: dmarc.policyDomain ?? dmarc.domain,
    testing: dmarc.testMode || legacy,
    disposition: result === 'fail' ? policy : 'none',
  };
}

/** mailauth's Authentication-Results with policy.dmarc (RFC 9989 §9.1) saying the policy we applied. */
export function withAppliedPolicy(headers: string, verdict: DmarcVerdict): string {
  if (!verdict.evaluated || verdict.policy === verdict.evaluated) return headers;
  return headers.replace(`policy.dmarc=${verdict.evaluated}`, `policy.dmarc=${verdict.policy}`);
}
