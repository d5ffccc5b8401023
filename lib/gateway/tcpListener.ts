import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import { readProxyHeader } from '../net/proxyProtocol.ts';
import type { GatewayDeps, Listener } from './types.ts';

/** What a hand-written protocol (POP3, IMAP) gets for each accepted connection. */
export interface Connection {
  readonly socket: Socket;
  /** Connection id, on every log line of this session. */
  readonly cid: string;
  /** The client's address: from the PROXY header behind the load balancer, else the socket's. */
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly log: Logger;
}

export interface TcpListenerOptions {
  readonly name: string;
  readonly port: number;
  /** Implicit TLS (995, 993): the handshake happens before the protocol starts. */
  readonly implicitTls: boolean;
  readonly onConnection: (conn: Connection) => void;
}

/**
 * A listener for the hand-written protocols: optional PROXY v2 header, optional implicit TLS, a per-IP
 * connection limit, and a connection id. Protocol sessions take it from there.
 */
export function createTcpListener(deps: GatewayDeps, opts: TcpListenerOptions): Listener {
  const { config, log: baseLog } = deps;
  const log = baseLog.child({ listener: opts.name });
  const perIp = new Map<string, number>();
  const sockets = new Set<Socket>();
  let server: Server;

  const accept = async (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const cid = randomId(6);
    let remoteAddress = socket.remoteAddress ?? 'unknown';
    if (config.proxyProtocol) {
      try {
        const info = await readProxyHeader(socket);
        if (info.command === 'local') {
          socket.destroy(); // the balancer's health check
          return;
        }
        remoteAddress = info.sourceAddress ?? remoteAddress;
      } catch (err) {
        // Health checks and port scanners close without a header; only a wrong header is worth a warning.
        const closedEarly = (err as Error).message.includes('closed before');
        log[closedEarly ? 'debug' : 'warn']('refused connection without a valid PROXY header', { cid, err });
        socket.destroy();
        return;
      }
    }
    const count = (perIp.get(remoteAddress) ?? 0) + 1;
    perIp.set(remoteAddress, count);
    socket.once('close', () => {
      const left = (perIp.get(remoteAddress) ?? 1) - 1;
      if (left <= 0) perIp.delete(remoteAddress);
      else perIp.set(remoteAddress, left);
    });
    const connLog = log.child({ cid, remote: remoteAddress });
    if (count > config.maxConnectionsPerIp) {
      connLog.warn('too many connections from this address');
      socket.end(
        opts.name.startsWith('pop3') ? '-ERR [SYS/TEMP] too many connections\r\n' : '* BYE too many connections\r\n',
      );
      return;
    }
    if (opts.implicitTls) {
      // After a PROXY header, bytes already read (the ClientHello) sit in the stream buffer; a plain Duplex
      // wrapper makes TLS read through the stream instead of the raw handle, so they are not skipped.
      const transport = config.proxyProtocol ? Duplex.from({ readable: socket, writable: socket }) : socket;
      const secure = new TLSSocket(transport as Socket, { isServer: true, key: deps.tls.key, cert: deps.tls.cert });
      if (config.proxyProtocol) socket.resume();
      secure.on('error', (err) => connLog.debug('tls error', { err }));
      secure.once('secure', () =>
        opts.onConnection({ socket: secure, cid, remoteAddress, secure: true, log: connLog }),
      );
      return;
    }
    opts.onConnection({ socket, cid, remoteAddress, secure: false, log: connLog });
  };

  let boundPort = opts.port;
  return {
    name: opts.name,
    get port() {
      return boundPort;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server = createServer((socket) => void accept(socket));
        server.once('error', reject);
        server.listen(opts.port, config.host, () => {
          server.off('error', reject);
          boundPort = (server.address() as { port: number }).port;
          resolve();
        });
      }),
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
