import { isIPv6 } from 'node:net';

/**
 * The key a client address is throttled under: the IPv4 address itself (also when written IPv4-mapped,
 * `::ffff:192.0.2.1`), and for IPv6 its /64 network. One subscriber or host gets a whole /64 (RFC 6177), so
 * keying by the full IPv6 address would hand an attacker 2^64 fresh budgets. Anything else (a Unix socket
 * path, an empty string) is its own key.
 */
export function clientKey(remoteAddress: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remoteAddress);
  if (mapped) return mapped[1];
  if (!isIPv6(remoteAddress)) return remoteAddress;
  const prefix = ipv6Groups(remoteAddress).slice(0, 4);
  return `${prefix.map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, an IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  const halves = address.split('%')[0].split('::');
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
