import type { Socket } from 'node:net';

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

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
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
        sourceAddress: ipv6(block.subarray(0, 16)),
        destinationAddress: ipv6(block.subarray(16, 32)),
        sourcePort: block.readUInt16BE(32),
        destinationPort: block.readUInt16BE(34),
      },
      length: total,
    };
  }
  if (family === 0x00) return { info: { command: 'proxy' }, length: total };
  throw new ProxyHeaderError('unsupported PROXY address family');
}

/** Builds a v2 header (tests and the benchmark use it to act as the load balancer). */
export function buildProxyV2(
  source: { address: string; port: number },
  dest: { address: string; port: number },
): Buffer {
  const toBytes = (a: string) => Buffer.from(a.split('.').map(Number));
  const block = Buffer.alloc(12);
  toBytes(source.address).copy(block, 0);
  toBytes(dest.address).copy(block, 4);
  block.writeUInt16BE(source.port, 8);
  block.writeUInt16BE(dest.port, 10);
  const head = Buffer.alloc(4);
  head[0] = 0x21;
  head[1] = 0x11;
  head.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIGNATURE, head, block]);
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
