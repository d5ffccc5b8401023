/**
 * MTA-STS (RFC 8461): the policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt and the id of the
 * `_mta-sts` TXT record, derived from the policy text so the two change together (§3.1: senders refetch the
 * policy when the id changes).
 */
import { createHash } from 'node:crypto';

/** `testing`: senders report failures (TLS-RPT) but still deliver; `enforce`: they refuse an unverified MX. */
export type MtaStsMode = 'testing' | 'enforce' | 'none';
export const MTA_STS_MODES: readonly MtaStsMode[] = ['testing', 'enforce', 'none'];

/** One week: long enough to bridge an outage of the policy host, short enough to change the mode in time. */
export const DEFAULT_MTA_STS_MAX_AGE = 604_800;
/** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
export const MAX_MTA_STS_MAX_AGE = 31_557_600;

export interface MtaStsPolicy {
  readonly mode: MtaStsMode;
  /** MX host names the policy allows (our gateway host). */
  readonly mx: readonly string[];
  readonly maxAgeSeconds: number;
}

export const MTA_STS_POLICY_PATH = '/.well-known/mta-sts.txt';

/** RFC 8461 §3.2: `key: value` lines ending in CRLF, version first; one `mx` line per host. */
export function mtaStsPolicyText(policy: MtaStsPolicy): string {
  if (
    !Number.isInteger(policy.maxAgeSeconds) ||
    policy.maxAgeSeconds < 0 ||
    policy.maxAgeSeconds > MAX_MTA_STS_MAX_AGE
  ) {
    throw new RangeError(`MTA-STS max_age must be an integer from 0 to ${MAX_MTA_STS_MAX_AGE}`);
  }
  const lines = ['version: STSv1', `mode: ${policy.mode}`, ...policy.mx.map((mx) => `mx: ${mx}`)];
  lines.push(`max_age: ${policy.maxAgeSeconds}`);
  return lines.map((l) => `${l}\r\n`).join('');
}

/** RFC 8461 §3.1: id is 1 to 32 letters and digits; ours is the start of the policy's SHA-256, in hex. */
export function mtaStsId(policy: MtaStsPolicy): string {
  return createHash('sha256').update(mtaStsPolicyText(policy)).digest('hex').slice(0, 32);
}

/** The `_mta-sts.<domain>` TXT record's text. */
export const mtaStsRecordText = (policy: MtaStsPolicy) => `v=STSv1; id=${mtaStsId(policy)}`;
