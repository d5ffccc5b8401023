/**
 * The mail domain's DNS records, declared once: the CDK stack publishes them in Route 53 (lib/infra/dns.ts) and
 * `npm run admin -- dns` prints them for a zone kept elsewhere (lib/admin/dns.ts). Pure: addresses may be CDK
 * tokens, so nothing here parses them; callers check their input.
 */
import type { DkimKey } from '../core/outbound.ts';
import { dkimRecordName, dkimRecordText, txtStrings } from '../outbound/dkimKeys.ts';
import { type MtaStsMode, mtaStsRecordText } from './mtaSts.ts';
import { CLIENT_SERVICES } from './services.ts';

/** How outbound mail leaves, which is what SPF must authorize. */
export interface OutboundSenders {
  /** Through Amazon SES (the stack's deliver Lambda): `include:amazonses.com`. */
  readonly ses: boolean;
  /** Straight from the mail host (the mx or smarthost transport on a host of its own): `mx` and its addresses. */
  readonly fromHost: boolean;
}

export interface MailDomainPlan {
  /** ASCII, lower case, no trailing dot. */
  readonly domain: string;
  /** The gateway's host name: MX target, SRV target, MTA-STS mx. */
  readonly host: string;
  /** The host's public addresses (A and AAAA); empty when unknown. */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly outbound: OutboundSenders;
  /** Public parts of the domain's DKIM keys; each is a `<selector>._domainkey` TXT record. */
  readonly dkimKeys: readonly DkimKey[];
  readonly mtaSts: { readonly mode: MtaStsMode; readonly maxAgeSeconds: number };
  /** CAA `issue` values: the CAs allowed to issue certificates for the domain's names. */
  readonly caaIssuers: readonly string[];
}

/** Let's Encrypt (the gateway's ACME certificate) and Amazon (ACM, the HTTPS front's certificate). */
export const DEFAULT_CAA_ISSUERS: readonly string[] = ['letsencrypt.org', 'amazon.com'];

interface Owned {
  /** Fully qualified, with the trailing dot. */
  readonly name: string;
  /** Why the record is there (a comment in the zone-file form). */
  readonly purpose: string;
}
export type DnsRecord = Owned &
  (
    | { readonly type: 'MX'; readonly priority: number; readonly target: string }
    | { readonly type: 'A' | 'AAAA'; readonly addresses: readonly string[] }
    | { readonly type: 'TXT'; readonly text: string }
    | {
        readonly type: 'SRV';
        readonly priority: number;
        readonly weight: number;
        readonly port: number;
        readonly target: string;
      }
    | { readonly type: 'CAA'; readonly flags: number; readonly tag: 'issue' | 'iodef'; readonly value: string }
  );

/** Where DMARC aggregate and TLS-RPT reports go: postmaster@, which every Postern domain accepts. */
export const reportAddress = (domain: string) => `postmaster@${domain}`;

export function spfText(plan: Pick<MailDomainPlan, 'outbound' | 'ipv4' | 'ipv6'>): string {
  const terms = ['v=spf1'];
  if (plan.outbound.fromHost) {
    terms.push('mx', ...plan.ipv4.map((ip) => `ip4:${ip}`), ...plan.ipv6.map((ip) => `ip6:${ip}`));
  }
  if (plan.outbound.ses) terms.push('include:amazonses.com');
  terms.push('-all');
  return terms.join(' ');
}

/** A DKIM key's `<selector>._domainkey` TXT record. */
export const dkimRecord = (key: DkimKey): DnsRecord => ({
  name: dkimRecordName(key),
  type: 'TXT',
  text: dkimRecordText(key),
  purpose: 'DKIM (RFC 6376)',
});

/** Every record the domain needs, in the order a person would add them. */
export function mailDomainRecords(plan: MailDomainPlan): DnsRecord[] {
  const { domain } = plan;
  const apex = `${domain}.`;
  const host = `${plan.host}.`;
  const records: DnsRecord[] = [{ name: apex, type: 'MX', priority: 10, target: host, purpose: 'mail for the domain' }];
  if (plan.ipv4.length) records.push({ name: host, type: 'A', addresses: plan.ipv4, purpose: 'the mail host' });
  if (plan.ipv6.length) records.push({ name: host, type: 'AAAA', addresses: plan.ipv6, purpose: 'the mail host' });
  records.push(
    { name: apex, type: 'TXT', text: spfText(plan), purpose: 'SPF (RFC 7208): who sends for the domain' },
    {
      name: `_dmarc.${apex}`,
      type: 'TXT',
      text: `v=DMARC1; p=quarantine; rua=mailto:${reportAddress(domain)}`,
      purpose: 'DMARC (RFC 7489)',
    },
  );
  records.push(...plan.dkimKeys.map(dkimRecord));
  records.push(
    {
      name: `_mta-sts.${apex}`,
      type: 'TXT',
      text: mtaStsRecordText({ ...plan.mtaSts, mx: [plan.host] }),
      purpose: 'MTA-STS (RFC 8461 §3.1); the policy is served at https://mta-sts.<domain>',
    },
    {
      name: `_smtp._tls.${apex}`,
      type: 'TXT',
      text: `v=TLSRPTv1; rua=mailto:${reportAddress(domain)}`,
      purpose: 'TLS-RPT (RFC 8460)',
    },
  );
  for (const s of CLIENT_SERVICES) {
    records.push({
      name: `${s.srvLabel}.${apex}`,
      type: 'SRV',
      priority: s.srvPriority,
      weight: 1,
      port: s.port,
      target: host,
      purpose: 'client setup (RFC 6186, RFC 8314 §5.1)',
    });
  }
  for (const issuer of plan.caaIssuers) {
    records.push({ name: apex, type: 'CAA', flags: 0, tag: 'issue', value: issuer, purpose: 'CAA (RFC 8659)' });
  }
  if (plan.caaIssuers.length) {
    records.push({
      name: apex,
      type: 'CAA',
      flags: 0,
      tag: 'iodef',
      value: `mailto:${reportAddress(domain)}`,
      purpose: 'CAA (RFC 8659)',
    });
  }
  return records;
}

/** The record's data as a zone file writes it (TXT in quoted strings of at most 255 octets). */
export function zoneData(record: DnsRecord): string[] {
  switch (record.type) {
    case 'MX':
      return [`${record.priority} ${record.target}`];
    case 'A':
    case 'AAAA':
      return [...record.addresses];
    case 'TXT':
      return [txtStrings(record.text)];
    case 'SRV':
      return [`${record.priority} ${record.weight} ${record.port} ${record.target}`];
    case 'CAA':
      return [`${record.flags} ${record.tag} "${record.value}"`];
  }
}
