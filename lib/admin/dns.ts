/**
 * `admin dns`: the records of lib/clientSetup/records.ts (the ones the stack publishes in Route 53) in
 * zone-file form, for a zone kept anywhere, with what the records alone cannot do as comments: the MTA-STS
 * policy and client-setup documents to serve over HTTPS, SES's own DKIM, and the PTR to ask for.
 */
import { isIP } from 'node:net';
import { clientSetupHosts } from '../clientSetup/http.ts';
import { DEFAULT_MTA_STS_MAX_AGE, MTA_STS_POLICY_PATH, mtaStsPolicyText } from '../clientSetup/mtaSts.ts';
import {
  DEFAULT_CAA_ISSUERS,
  type DnsRecord,
  type MailDomainPlan,
  mailDomainRecords,
  zoneData,
} from '../clientSetup/records.ts';
import { normalizeDomain } from '../core/address.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { DkimKey } from '../core/outbound.ts';

/** How outbound mail leaves: through SES (the AWS deployment) or straight from the mail host. */
export type OutboundRoute = 'ses' | 'direct';
export const OUTBOUND_ROUTES: readonly OutboundRoute[] = ['ses', 'direct'];

export interface DnsOptions {
  /** The mail host the MX record points at; defaults to `mail.<domain>`. */
  readonly host?: string;
  /** The host's public address; adds its A (or AAAA) record, and with direct sending an ip4: (ip6:) SPF term. */
  readonly ip?: string;
  /** The domain's DKIM keys (public parts), each published as `<selector>._domainkey` TXT. */
  readonly dkimKeys?: readonly DkimKey[];
  /** Default `direct`. */
  readonly outbound?: OutboundRoute;
}

const MTA_STS = { mode: 'testing', maxAgeSeconds: DEFAULT_MTA_STS_MAX_AGE } as const;

function planOf(domainInput: string, opts: DnsOptions): MailDomainPlan {
  const domain = normalizeDomain(domainInput);
  const host = normalizeDomain(opts.host ?? `mail.${domain}`);
  const family = opts.ip === undefined ? 0 : isIP(opts.ip);
  if (opts.ip !== undefined && family === 0)
    throw new InvalidInputError(`invalid IP address: ${JSON.stringify(opts.ip)}`);
  const outbound = opts.outbound ?? 'direct';
  return {
    domain,
    host,
    ipv4: family === 4 ? [opts.ip!] : [],
    ipv6: family === 6 ? [opts.ip!] : [],
    outbound: { ses: outbound === 'ses', fromHost: outbound === 'direct' },
    dkimKeys: opts.dkimKeys ?? [],
    mtaSts: MTA_STS,
    caaIssuers: DEFAULT_CAA_ISSUERS,
  };
}

/** The records a domain needs to receive mail on Postern, to have its mail accepted elsewhere, and for clients. */
export function dnsRecords(domainInput: string, opts: DnsOptions = {}): DnsRecord[] {
  return mailDomainRecords(planOf(domainInput, opts));
}

/** The records in zone-file form, with comments, ready to paste into a zone or to copy into a DNS console. */
export function dnsZoneLines(domainInput: string, opts: DnsOptions = {}): string[] {
  const plan = planOf(domainInput, opts);
  const records = mailDomainRecords(plan);
  const rows = records.flatMap((r) => zoneData(r).map((data) => ({ name: r.name, type: r.type, data })));
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = [`; DNS records for ${plan.domain}`];
  for (const r of rows) lines.push(`${r.name.padEnd(width)}  IN  ${r.type.padEnd(4)}  ${r.data}`);
  lines.push(
    opts.dkimKeys?.length
      ? '; DKIM: keep each selector published until dkim retire; publish a new one (dkim rotate) at once: it signs from then on'
      : `; DKIM: ${plan.domain} has no key yet: npm run admin -- dkim rotate ${plan.domain}`,
  );
  if (plan.outbound.ses) {
    lines.push(
      `; SES: sends only for a verified identity: aws sesv2 create-email-identity --email-identity ${plan.domain},`,
      ';   then publish the three DKIM CNAME records it returns (the stack does both when given the hosted zone)',
    );
  }
  const hosts = clientSetupHosts(plan.domain);
  lines.push(
    `; MTA-STS: the _mta-sts id is that of this policy, to be served at https://${hosts.mtaSts}${MTA_STS_POLICY_PATH}`,
    ...mtaStsPolicyText({ ...plan.mtaSts, mx: [plan.host] })
      .trimEnd()
      .split('\r\n')
      .map((l) => `;   ${l}`),
    `; Client setup: autoconfig (https://${hosts.autoconfig}/mail/config-v1.1.xml) and autodiscover`,
    `;   (https://${hosts.autodiscover}/autodiscover/autodiscover.xml) are served by the stack's HTTPS front,`,
    ';   which exists only with a Route 53 hosted zone; the SRV records above work without it',
  );
  const address = records.find((r) => r.type === 'A' || r.type === 'AAAA');
  if (address?.type === 'A' || address?.type === 'AAAA') {
    lines.push(`; PTR: set the reverse DNS of ${address.addresses.join(', ')} to ${address.name}`);
  }
  return lines;
}
