import { isIP } from 'node:net';
import { normalizeDomain } from '../core/address.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { DkimKey } from '../core/outbound.ts';
import { dkimRecordName, dkimRecordText, txtStrings } from '../outbound/dkimKeys.ts';

export interface DnsOptions {
  /** The mail host the MX record points at; defaults to `mail.<domain>`. */
  readonly host?: string;
  /** The host's public address; adds its A (or AAAA) record and an ip4: (ip6:) term to SPF. */
  readonly ip?: string;
  /** The domain's DKIM keys (public parts), each published as `<selector>._domainkey` TXT. */
  readonly dkimKeys?: readonly DkimKey[];
}

export interface DnsRecord {
  /** Fully qualified owner name, with the trailing dot. */
  readonly name: string;
  readonly type: 'MX' | 'TXT' | 'A' | 'AAAA';
  /** Record data as a zone file has it (TXT data quoted, in strings of at most 255 octets). */
  readonly data: string;
}

/** The records a domain needs to receive mail on Postern and to have its mail accepted elsewhere. */
export function dnsRecords(domainInput: string, opts: DnsOptions = {}): DnsRecord[] {
  const domain = normalizeDomain(domainInput);
  const host = normalizeDomain(opts.host ?? `mail.${domain}`);
  const family = opts.ip === undefined ? 0 : isIP(opts.ip);
  if (opts.ip !== undefined && family === 0)
    throw new InvalidInputError(`invalid IP address: ${JSON.stringify(opts.ip)}`);
  const spf = ['v=spf1', 'mx', ...(family ? [`ip${family}:${opts.ip}`] : []), '-all'].join(' ');
  const records: DnsRecord[] = [{ name: `${domain}.`, type: 'MX', data: `10 ${host}.` }];
  if (family) records.push({ name: `${host}.`, type: family === 4 ? 'A' : 'AAAA', data: opts.ip! });
  records.push(
    { name: `${domain}.`, type: 'TXT', data: txtStrings(spf) },
    {
      name: `_dmarc.${domain}.`,
      type: 'TXT',
      data: txtStrings(`v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}`),
    },
  );
  for (const key of opts.dkimKeys ?? []) {
    records.push({ name: dkimRecordName(key), type: 'TXT', data: txtStrings(dkimRecordText(key)) });
  }
  return records;
}

/** The records in zone-file form, with comments, ready to paste into a zone or to copy into a DNS console. */
export function dnsZoneLines(domainInput: string, opts: DnsOptions = {}): string[] {
  const records = dnsRecords(domainInput, opts);
  const domain = normalizeDomain(domainInput);
  const width = Math.max(...records.map((r) => r.name.length));
  const lines = [`; DNS records for ${domain}`];
  for (const r of records) lines.push(`${r.name.padEnd(width)}  IN  ${r.type.padEnd(4)}  ${r.data}`);
  lines.push(
    opts.dkimKeys?.length
      ? '; DKIM: keep each selector published until dkim retire; publish a new one (dkim rotate) at once: it signs from then on'
      : `; DKIM: ${domain} has no key yet: npm run admin -- dkim rotate ${domain}`,
  );
  const address = records.find((r) => r.type === 'A' || r.type === 'AAAA');
  if (address) lines.push(`; PTR: set the reverse DNS of ${address.data} to ${address.name}`);
  return lines;
}
