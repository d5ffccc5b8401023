import { isIPv6, type Socket } from 'node:net';

/**
 * PROXY protocol v2 (as the AWS Network Load Balancer sends it): a binary header in front of the client's
 * bytes that carries the real client address. When a listener is configured for it, every connection must
 * start with one; anything else is refused, so a client cannot forge its address.
 */
const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const HEADER_LENGTH = 16;
const MAX_ADDRESS_BLOCK = 1024;

export interface ProxyInfo {
  /** 'proxy' for a proxied connection, 'local' for the balancer's own health checks (LOCAL command). */
  readonly command: 'proxy' | 'local';
  readonly sourceAddress?: string;
  readonly sourcePort?: number;
  readonly destinationAddress?: string;
  readonly destinationPort?: number;
}

export class ProxyHeaderError extends Error {}

/**
 * The RFC 5952 text form of 16 address bytes: lowercase hex without leading zeros (§4.1, §4.3), the longest run
 * of two or more zero groups shortened to `::`, the first one if tied, a single zero group never (§4.2); an
 * IPv4-mapped address in dotted form (§5), which the listener then treats as the IPv4 address it is.
 */
export function formatIpv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${[...bytes.subarray(12, 16)].join('.')}`;
  }
  let runStart = -1;
  let runLength = 1; // a run must be longer than this to be shortened
  for (let i = 0; i < 8; ) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > runLength) {
      runStart = i;
      runLength = end - i;
    }
    i = Math.max(end, i + 1);
  }
  const hex = groups.map((g) => g.toString(16));
  if (runStart < 0) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}

/**
 * Parses a complete header. Returns undefined when more bytes are needed, the info and its length when
 * done; throws ProxyHeaderError when the bytes are not a v2 header.
 */
export function parseProxyV2(buf: Buffer): { info: ProxyInfo; length: number } | undefined {
  const known = Math.min(buf.length, SIGNATURE.length);
  if (!buf.subarray(0, known).equals(SIGNATURE.subarray(0, known))) throw new ProxyHeaderError('not a PROXY v2 header');
  if (buf.length < HEADER_LENGTH) return undefined;
  const versionCommand = buf[12];
  if (versionCommand >> 4 !== 2) throw new ProxyHeaderError('unsupported PROXY version');
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyHeaderError('unknown PROXY command');
  const family = buf[13];
  const length = buf.readUInt16BE(14);
  if (length > MAX_ADDRESS_BLOCK) throw new ProxyHeaderError('PROXY address block too long');
  if (buf.length < HEADER_LENGTH + length) return undefined;
  const block = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + length);
  const total = HEADER_LENGTH + length;
  if (command === 0) return { info: { command: 'local' }, length: total };
  if (family === 0x11 && block.length >= 12) {
    return {
      info: {
        command: 'proxy',
        sourceAddress: [...block.subarray(0, 4)].join('.'),
        destinationAddress: [...block.subarray(4, 8)].join('.'),
        sourcePort: block.readUInt16BE(8),
        destinationPort: block.readUInt16BE(10),
      },
      length: total,
    };
  }
  if (family === 0x21 && block.length >= 36) {
    return {
      info: {
        command: 'proxy',
        sourceAddress: formatIpv6(block.subarray(0, 16)),
        destinationAddress: formatIpv6(block.subarray(16, 32)),
        sourcePort: block.readUInt16BE(32),
        destinationPort: block.readUInt16BE(34),
      },
      length: total,
    };
  }
  if (family === 0x00) return { info: { command: 'proxy' }, length: total };
  throw new ProxyHeaderError('unsupported PROXY address family');
}

/** Builds a v2 header, TCP over IPv4 or IPv6 (tests and the benchmark use it to act as the load balancer). */
export function buildProxyV2(
  source: { address: string; port: number },
  dest: { address: string; port: number },
): Buffer {
  const v6 = isIPv6(source.address);
  const toBytes = (a: string) => (v6 ? ipv6Bytes(a) : Buffer.from(a.split('.').map(Number)));
  const size = v6 ? 16 : 4;
  const block = Buffer.alloc(size * 2 + 4);
  toBytes(source.address).copy(block, 0);
  toBytes(dest.address).copy(block, size);
  block.writeUInt16BE(source.port, size * 2);
  block.writeUInt16BE(dest.port, size * 2 + 2);
  const head = Buffer.alloc(4);
  head[0] = 0x21;
  head[1] = v6 ? 0x21 : 0x11;
  head.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIGNATURE, head, block]);
}

/** The 16 bytes of an IPv6 address written in hex groups (with or without `::`; no dotted IPv4 tail). */
function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(missing).fill('0'), ...groups(tail)];
  const out = Buffer.alloc(16);
  for (const [i, g] of all.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/**
 * Reads the header off a fresh socket before any protocol starts; bytes after it are pushed back so the
 * protocol sees them. Rejects on a malformed header, on timeout, or if the socket closes first.
 */
export function readProxyHeader(socket: Socket, timeoutMs = 5000): Promise<ProxyInfo> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, info?: ProxyInfo) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(info!);
    };
    const onClose = () => done(new ProxyHeaderError('connection closed before PROXY header'));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const parsed = parseProxyV2(buf);
        if (!parsed) return;
        const rest = buf.subarray(parsed.length);
        done(undefined, parsed.info);
        if (rest.length > 0) socket.unshift(rest);
      } catch (err) {
        done(err as Error);
      }
    };
    const timer = setTimeout(() => done(new ProxyHeaderError('timed out waiting for PROXY header')), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}
