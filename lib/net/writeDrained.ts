import type { Socket } from 'node:net';

/**
 * Writes `chunk` and resolves once the socket has taken it (at once, or at its next 'drain'), so a large
 * response streams at the client's pace instead of piling up in memory. Rejects if the connection closes first.
 */
export function writeDrained(socket: Socket, chunk: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('connection closed'));
  if (socket.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('connection closed'));
    };
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}
