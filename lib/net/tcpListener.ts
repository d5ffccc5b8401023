/**
 * The one accept path every protocol listener shares:
 *
 * - PROXY protocol v2 when configured (behind the NLB): the header is read first and gives the real client
 *   address; a connection without a valid header is dropped, the balancer's LOCAL health checks are closed
 *   quietly. When PROXY is not configured, a connection that starts with a PROXY header (v1 or v2) is refused,
 *   so nobody can claim an address by sending one.
 * - The listener's own connection cap (every accepted socket counts, from accept to close, handshakes
 *   included): one more gets the protocol's "too many connections" line, so a flood on one port cannot take
 *   the descriptors of another port or of storage. Near the cap the listener is under stress and the
 *   protocols shorten their idle timeouts (listenerLoad.ts).
 * - The per-IP connection limit (maxConnectionsPerIp, per listener): one more gets the protocol's refusal.
 * - Implicit TLS (465, 995, 993): the handshake happens before the protocol starts, within
 *   tlsHandshakeTimeoutMs (a silent or trickling client would otherwise hold the connection forever).
 * - A connection id (`cid`) and a logger that carries it.
 * - Graceful close: stop accepting, give sessions `graceMs`, then say goodbye in the protocol's words and
 *   close what is left.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { NetConfig } from '../core/config.ts';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { ConnectionGauge, type ListenerLoad } from './listenerLoad.ts';
import { serverTlsOptions } from './liveTls.ts';
import { readProxyHeader } from './proxyProtocol.ts';
import type { Listener, ListenerContext } from './types.ts';

/** What a protocol gets for each accepted connection. */
export interface Connection {
  readonly socket: Socket;
  /** Connection id, on every log line of this session. */
  readonly cid: string;
  /** The client's address: from the PROXY header behind the load balancer, else the socket's. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly secure: boolean;
  readonly log: Logger;
  /** The listener's load (idle timeouts shrink under stress); absent for sessions made outside a listener. */
  readonly load?: ListenerLoad;
}

export interface TcpListenerOptions {
  readonly name: string;
  readonly port: number;
  readonly implicitTls: boolean;
  /** Most connections open at once on this listener (NetConfig.maxConnections of its family). */
  readonly maxConnections: number;
  /**
   * The protocol's lines for a full listener, for "too many connections from your address", and for a refused
   * PROXY header.
   */
  readonly refusal: {
    readonly listenerFull: string;
    readonly tooManyConnections: string;
    readonly proxyRefused: string;
  };
  readonly onConnection: (conn: Connection) => void;
  /** Called when the grace period of close() ends, before the remaining sockets are destroyed. */
  readonly onForcedClose?: () => void;
  /** Logger for the listener's own lines; defaults to the gateway's with `listener: name`. */
  readonly log?: Logger;
}

const PROXY_V2_START = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00]);
const PROXY_V1_START = Buffer.from('PROXY ', 'latin1');

/** Whether the first bytes of a connection look like a PROXY protocol header (v2 signature or v1 line). */
export function looksLikeProxyHeader(first: Buffer): boolean {
  const n = Math.min(first.length, PROXY_V2_START.length);
  if (n >= 4 && first.subarray(0, n).equals(PROXY_V2_START.subarray(0, n))) return true;
  const m = Math.min(first.length, PROXY_V1_START.length);
  return (
    m >= 5 && first.subarray(0, m).toString('latin1').toUpperCase() === PROXY_V1_START.subarray(0, m).toString('latin1')
  );
}

/** What the accept path needs: the network settings, the certificate and a logger. */
export interface TcpListenerContext extends ListenerContext {
  readonly net: NetConfig;
}

export function createTcpListener(ctx: TcpListenerContext, opts: TcpListenerOptions): Listener {
  const config = ctx.net;
  const log = opts.log ?? ctx.log.child({ listener: opts.name });
  const perIp = new Map<string, number>();
  const sockets = new Set<Socket>();
  const gauge = new ConnectionGauge(opts.maxConnections, config.stressIdleTimeoutMs, (stressed, open) =>
    log.warn(stressed ? 'listener under stress: short idle timeouts' : 'listener no longer under stress', {
      connections: open,
      cap: opts.maxConnections,
    }),
  );
  const refusedFull = everyTenSeconds((count) =>
    log.warn('listener full: refused connections', { refused: count, cap: opts.maxConnections }),
  );
  let server: Server | undefined;
  let boundPort = opts.port;
  let opened = 0;

  const refuse = (socket: Socket, line: string) => {
    socket.end(line);
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  const accept = async (socket: Socket) => {
    socket.on('error', () => {});
    if (gauge.full) {
      refusedFull();
      refuse(socket, opts.refusal.listenerFull);
      return;
    }
    gauge.opened();
    opened++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      gauge.closed();
    });
    const cid = randomId(6);
    let remoteAddress = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/i, '');
    let remotePort = socket.remotePort ?? 0;
    if (config.proxyProtocol) {
      try {
        const info = await readProxyHeader(socket);
        if (info.command === 'local') {
          socket.destroy(); // the balancer's health check
          return;
        }
        remoteAddress = (info.sourceAddress ?? remoteAddress).replace(/^::ffff:/i, '');
        remotePort = info.sourcePort ?? remotePort;
      } catch (err) {
        // Health checks and port scanners close without a header; only a wrong header is worth a warning.
        const closedEarly = (err as Error).message.includes('closed before');
        log[closedEarly ? 'debug' : 'warn']('refused connection without a valid PROXY header', { cid, err });
        socket.destroy();
        return;
      }
    } else {
      // In place before the protocol starts reading, so it sees the first chunk first.
      socket.once('data', (first: Buffer) => {
        if (!looksLikeProxyHeader(first)) return;
        log.warn('refused a PROXY header: PROXY protocol is not configured', { cid, remote: remoteAddress });
        refuse(socket, opts.refusal.proxyRefused);
      });
    }
    if (socket.destroyed) return;
    const count = (perIp.get(remoteAddress) ?? 0) + 1;
    perIp.set(remoteAddress, count);
    socket.once('close', () => {
      const left = (perIp.get(remoteAddress) ?? 1) - 1;
      if (left <= 0) perIp.delete(remoteAddress);
      else perIp.set(remoteAddress, left);
    });
    const connLog = log.child({ cid, remote: remoteAddress });
    if (count > config.maxConnectionsPerIp) {
      connLog.warn('too many connections from this address', { count });
      refuse(socket, opts.refusal.tooManyConnections);
      return;
    }
    const base = { cid, remoteAddress, remotePort, log: connLog, load: gauge };
    if (!opts.implicitTls) {
      opts.onConnection({ ...base, socket, secure: false });
      return;
    }
    // After a PROXY header, bytes already read (the ClientHello) sit in the stream buffer; a plain Duplex
    // wrapper makes TLS read through the stream instead of the raw handle, so they are not skipped.
    const transport = config.proxyProtocol ? Duplex.from({ readable: socket, writable: socket }) : socket;
    const secure = new TLSSocket(transport as Socket, serverTlsOptions(ctx.tls));
    if (config.proxyProtocol) socket.resume();
    secure.on('error', (err) => connLog.debug('tls error', { err }));
    const handshake = setTimeout(() => {
      connLog.info('tls handshake timed out', { timeoutMs: config.tlsHandshakeTimeoutMs });
      secure.destroy();
      socket.destroy();
    }, config.tlsHandshakeTimeoutMs);
    socket.once('close', () => clearTimeout(handshake));
    secure.once('secure', () => {
      clearTimeout(handshake);
      opts.onConnection({ ...base, socket: secure, secure: true });
    });
  };

  return {
    name: opts.name,
    get port() {
      return boundPort;
    },
    get connections() {
      return gauge.connections;
    },
    get opened() {
      return opened;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        const s = createServer((socket) => void accept(socket));
        server = s;
        s.once('error', reject);
        s.listen(opts.port, config.host, () => {
          s.off('error', reject);
          s.on('error', (err) => log.error('listener error', { err }));
          boundPort = (s.address() as { port: number }).port;
          resolve();
        });
      }),
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const s = server;
        server = undefined;
        const finish = () => {
          opts.onForcedClose?.();
          for (const socket of sockets) socket.destroy();
        };
        const timer = setTimeout(finish, graceMs);
        timer.unref();
        s.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if (graceMs <= 0) finish();
      }),
  };
}

/** Counts events and reports the count at most every ten seconds (a flood must not flood the log too). */
function everyTenSeconds(report: (count: number) => void): () => void {
  let count = 0;
  let last = 0;
  return () => {
    count++;
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    report(count);
    count = 0;
  };
}
