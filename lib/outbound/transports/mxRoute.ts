/**
 * Where a domain's mail goes (RFC 5321 §5.1): its MX hosts by preference, random among equal preferences,
 * each with its addresses (A, then AAAA); no MX at all means the domain itself (the implicit MX); a null MX
 * (`0 .`, RFC 7505) means it takes no mail. Addresses that are loopback, private or otherwise not on the
 * Internet are left out unless allowed (tests), so a hostile MX record cannot point delivery at our own
 * network.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Resolver } from '../../pipeline/dns.ts';
import { ourReply } from './replies.ts';

export interface MxHost {
  readonly name: string;
  readonly preference: number;
  readonly addresses: readonly string[];
}

/** hosts to try in order; or a reply for every recipient, final (failed) or not (deferred). */
export type MxRoute = { readonly hosts: readonly MxHost[] } | { readonly reply: string };

export interface MxRouteOptions {
  readonly resolver: Resolver;
  /** Allow loopback and private addresses (tests, a lab network). */
  readonly allowPrivateAddresses?: boolean;
  /** Random in [0, 1) for the order among equal preferences. */
  readonly random?: () => number;
  /** MX hosts tried at most (Postfix's smtp_mx_address_limit is 5). */
  readonly maxHosts?: number;
}

interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

const NOT_THERE = new Set(['ENOTFOUND', 'ENODATA']);
const codeOfError = (err: unknown) => (err as { code?: string }).code ?? 'ERROR';

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** False for loopback, private, link-local, CGNAT, multicast (BlockList also matches IPv4-mapped IPv6 forms). */
export function isPublicAddress(address: string): boolean {
  return !NON_PUBLIC.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

/** Sorted by preference, shuffled within each preference (RFC 5321 §5.1). */
export function orderByPreference(records: readonly MxRecord[], random: () => number): MxRecord[] {
  const shuffled = [...records];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled.sort((a, b) => a.priority - b.priority);
}

const isNullMx = (r: MxRecord) => r.exchange === '' || r.exchange === '.';

/** The MX records, [] for none (implicit MX), or the reply that ends the lookup. */
async function mxRecords(domain: string, resolver: Resolver): Promise<MxRecord[] | { reply: string }> {
  try {
    const records = (await resolver(domain, 'MX')) as MxRecord[];
    const usable = records.filter((r) => !isNullMx(r));
    if (usable.length === 0 && records.length > 0) return { reply: ourReply.nullMx(domain) };
    return usable;
  } catch (err) {
    const code = codeOfError(err);
    if (code === 'ENODATA') return [];
    if (code === 'ENOTFOUND') return { reply: ourReply.noSuchDomain(domain) };
    return { reply: ourReply.dnsFailure(domain, `MX ${code}`) };
  }
}

/** A, then AAAA; `temporary` when a lookup failed in a way that may pass. */
async function addressesOf(name: string, resolver: Resolver): Promise<{ addresses: string[]; temporary: boolean }> {
  const addresses: string[] = [];
  let temporary = false;
  for (const rrtype of ['A', 'AAAA']) {
    try {
      addresses.push(...((await resolver(name, rrtype)) as string[]));
    } catch (err) {
      if (!NOT_THERE.has(codeOfError(err))) temporary = true;
    }
  }
  return { addresses, temporary };
}

export async function resolveMxRoute(domain: string, options: MxRouteOptions): Promise<MxRoute> {
  const found = await mxRecords(domain, options.resolver);
  if (!Array.isArray(found)) return found;
  const implicit = found.length === 0;
  const records = implicit
    ? [{ exchange: domain, priority: 0 }]
    : orderByPreference(found, options.random ?? Math.random);
  const hosts: MxHost[] = [];
  let temporary = false;
  let hidden = 0;
  for (const record of records.slice(0, options.maxHosts ?? 5)) {
    const name = record.exchange.replace(/\.$/, '').toLowerCase();
    const looked = await addressesOf(name, options.resolver);
    temporary ||= looked.temporary;
    const addresses = options.allowPrivateAddresses ? looked.addresses : looked.addresses.filter(isPublicAddress);
    hidden += looked.addresses.length - addresses.length;
    if (addresses.length > 0) hosts.push({ name, preference: record.priority, addresses });
  }
  if (hosts.length > 0) return { hosts };
  if (temporary) return { reply: ourReply.dnsFailure(domain, 'address lookup of its mail hosts') };
  if (hidden > 0) return { reply: ourReply.noRoute(domain, 'its mail hosts have only non-public addresses') };
  if (implicit) return { reply: ourReply.noAddress(domain) };
  return { reply: ourReply.noRoute(domain, 'no MX host has an address') };
}
