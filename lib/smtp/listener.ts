/**
 * The SMTP listener: accepts TCP connections itself and hands each socket to smtp-server (which only knows
 * PROXY protocol v1), after:
 *
 * - PROXY protocol v2, when configured (behind the NLB): the header is read first and gives the real client
 *   address; a connection without a valid header is dropped, and the balancer's LOCAL health checks are
 *   closed quietly. When PROXY is not configured, a connection that starts with a PROXY header (v1 or v2) is
 *   refused (554 5.7.0), so nobody can claim an address by sending one.
 * - The per-IP connection limit (maxConnectionsPerIp): one more gets 421 4.7.0 and is closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomId } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { GatewayDeps, Listener } from '../gateway/types.ts';
import { readProxyHeader } from '../net/proxyProtocol.ts';
import type { PosternSmtpServer } from './connection.ts';
import { REPLIES, replyLine } from './replies.ts';

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

export interface SmtpListenerOptions {
  readonly name: string;
  readonly port: number;
  readonly server: PosternSmtpServer;
  readonly log: Logger;
}

export function createSmtpListener(deps: GatewayDeps, opts: SmtpListenerOptions): Listener {
  const { config } = deps;
  const { log, server: smtp } = opts;
  const perIp = new Map<string, number>();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let boundPort = opts.port;

  const refuse = (socket: Socket, line: string) => {
    socket.end(line);
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  const accept = async (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
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
        remoteAddress = info.sourceAddress ?? remoteAddress;
        remotePort = info.sourcePort ?? remotePort;
      } catch (err) {
        log.warn('refused connection without a valid PROXY header', { cid, err });
        socket.destroy();
        return;
      }
    } else {
      // must be in place before smtp-server starts reading, so it sees the first chunk first
      socket.once('data', (first: Buffer) => {
        if (!looksLikeProxyHeader(first)) return;
        log.warn('refused a PROXY header: PROXY protocol is not configured', { cid, remote: remoteAddress });
        refuse(socket, replyLine(REPLIES.proxyRefused));
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
    if (count > config.maxConnectionsPerIp) {
      log.warn('too many connections from this address', { cid, remote: remoteAddress, count });
      refuse(socket, replyLine(REPLIES.tooManyConnections));
      return;
    }
    smtp.connect(socket, { id: cid, remoteAddress, remotePort });
  };

  return {
    name: opts.name,
    get port() {
      return boundPort;
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
          log.info('listening', { port: boundPort });
          resolve();
        });
      }),
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const s = server;
        server = undefined;
        const finish = () => {
          for (const conn of smtp.connections) {
            try {
              conn.send(REPLIES.shuttingDown.code, `${REPLIES.shuttingDown.enhanced} ${REPLIES.shuttingDown.text}`);
            } catch {
              // the socket may be gone already
            }
          }
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
