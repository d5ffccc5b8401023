/**
 * Notices over UDP: the gateway task's listener and the notify function's sender. UDP because a notice is a
 * hint: a lost one only delays a session until its next catch-up, and a sender never waits on a task that died
 * with its presence record still fresh (a TCP connect to it would hang until a timeout).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type ChangeNotice, decodeNotices } from './changeFeedNotice.ts';

export interface NoticeListener {
  /** The bound UDP port (the presence record advertises it). */
  readonly port: number;
  close(): Promise<void>;
}

/** Binds the listener; each datagram's well-formed notices go to `onNotices`. */
export function listenForNotices(
  host: string,
  port: number,
  onNotices: (notices: ChangeNotice[]) => void,
): Promise<NoticeListener> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('message', (datagram) => {
    const notices = decodeNotices(datagram);
    if (notices.length > 0) onNotices(notices);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // a receive error on UDP drops one datagram; nothing to recover
      resolve({
        port: socket.address().port,
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}

/** Sends datagrams from one socket per address family, opened on first use and kept (a warm Lambda reuses it). */
export class NoticeSender {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();

  private socketFor(address: string): Socket {
    const family = isIPv6(address) ? 'udp6' : 'udp4';
    let socket = this.sockets.get(family);
    if (!socket) {
      socket = createSocket(family);
      socket.on('error', () => {});
      socket.unref();
      this.sockets.set(family, socket);
    }
    return socket;
  }

  /** Resolves when the datagrams are handed to the kernel; a send error is returned, never thrown. */
  async send(address: string, port: number, datagrams: readonly Buffer[]): Promise<Error | undefined> {
    const socket = this.socketFor(address);
    for (const datagram of datagrams) {
      const err = await new Promise<Error | null>((resolve) => socket.send(datagram, port, address, resolve));
      if (err) return err;
    }
    return undefined;
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }
}
