/**
 * DNS for the filter's SPF, DKIM, DMARC and ARC checks, behind one injectable function (mailauth's `resolver`
 * option): the system resolver in AWS, a table in tests (this machine has no Internet).
 */
import { promises as dns } from 'node:dns';

/** mailauth's resolver: dns.promises.resolve semantics (TXT answers are string[][]). Errors carry ENOTFOUND/ENODATA. */
export type Resolver = (name: string, rrtype: string) => Promise<unknown>;

/** The system resolver, with a per-query timeout so a slow DNS server cannot hold a delivery. */
export function systemResolver(timeoutMs = 5000): Resolver {
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  return (name, rrtype) => resolver.resolve(name, rrtype as 'A') as Promise<unknown>;
}

export class DnsError extends Error {
  constructor(
    readonly code: 'ENOTFOUND' | 'ENODATA' | 'ESERVFAIL' | 'ETIMEOUT',
    name: string,
    rrtype: string,
  ) {
    super(`query${rrtype} ${code} ${name}`);
  }
}

/**
 * Records for a stub resolver: `{ 'example.org': { TXT: ['v=spf1 ip4:192.0.2.1 -all'], A: ['192.0.2.1'] } }`.
 * A TXT record given as a string is one character-string; give string[] to split it as DNS would.
 * A name mapped to 'SERVFAIL' fails every query (tests of temperror).
 */
export type DnsRecords = Record<string, Record<string, readonly (string | readonly string[] | object)[]> | 'SERVFAIL'>;

/** A resolver answering only from `records`: unknown names are ENOTFOUND, known names without that type ENODATA. */
export function stubResolver(records: DnsRecords): Resolver {
  const table = new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return async (name, rrtype) => {
    const entry = table.get(name.toLowerCase().replace(/\.$/, ''));
    if (entry === undefined) throw new DnsError('ENOTFOUND', name, rrtype);
    if (entry === 'SERVFAIL') throw new DnsError('ESERVFAIL', name, rrtype);
    const answers = entry[rrtype.toUpperCase()];
    if (!answers || answers.length === 0) throw new DnsError('ENODATA', name, rrtype);
    if (rrtype.toUpperCase() === 'TXT') return answers.map((a) => (typeof a === 'string' ? [a] : a));
    return answers;
  };
}
