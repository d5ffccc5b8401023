/**
 * An IMAP server alone in a child process, so a test can measure its RSS: the real session over the run's
 * DynamoDB Local and S3 stand-in (tables and account made by the parent, named in POSTERN_CHILD_SETUP).
 * IPC: sends `{ port }` when listening; answers `reset` (baseline now, after a GC) and `peak` with
 * `{ baseline, peak, queued }`: RSS and the most octets queued in a client socket unsent (writableLength,
 * what ignoring backpressure would grow), both sampled every 10 ms.
 */
import { createServer } from 'node:net';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account } from '../../lib/core/ports.ts';
import type { StorageNames } from '../../lib/core/schema.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession } from '../../lib/imap/session.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { testTls } from '../support/gateway.ts';
import { testEndpoints } from '../support/storage.ts';

const setup = JSON.parse(process.env.POSTERN_CHILD_SETUP ?? '{}') as { names: StorageNames; account: Account };
const storage = createAwsStorage({ endpoints: await testEndpoints(), names: setup.names });
const backend = createImapBackend(storage.mail, storage.blobs, {
  authenticate: async () => ({ ok: true, account: setup.account }),
});
const tls = await testTls();
const sockets = new Set<import('node:net').Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  const session = new ImapSession(
    { socket, cid: 'c', remotePort: 1, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
    backend,
    { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 600_000, maxErrors: 10, tls },
  );
  void session.run();
});

let baseline = process.memoryUsage.rss();
let peak = baseline;
let atPeak = process.memoryUsage();
let queued = 0;
setInterval(() => {
  for (const s of sockets) queued = Math.max(queued, s.writableLength);
  const rss = process.memoryUsage.rss();
  if (rss > peak) {
    peak = rss;
    if (process.env.POSTERN_CHILD_DETAIL) atPeak = process.memoryUsage();
  }
}, 10);

process.on('message', (m: string) => {
  if (m === 'reset') {
    (globalThis as { gc?: () => void }).gc?.();
    baseline = process.memoryUsage.rss();
    peak = baseline;
    queued = 0;
    process.send!({ baseline });
  } else if (m === 'peak') {
    process.send!({ baseline, peak, atPeak, queued });
  } else if (m === 'exit') {
    process.exit(0);
  }
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
