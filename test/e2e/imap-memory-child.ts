/**
 * An IMAP server in a child process of its own, so a test can measure its RSS: the real session over the run's
 * DynamoDB Local and S3 stand-in (tables and account made by the parent, named in POSTERN_CHILD_SETUP). The
 * process also runs the whole gateway as AWS runs it (startGateway, the Lambda invoker), so that it holds the
 * gateway's module graph and listeners: what a session's memory grows on top of in production.
 * IPC: sends `{ port }` when listening; answers `reset` (baseline now, after a GC) and `peak` with
 * `{ baseline, peak, queued }`: RSS and the most octets queued in a client socket unsent (writableLength,
 * what ignoring backpressure would grow), both sampled every 10 ms.
 */
import { createServer } from 'node:net';
import selfsigned from 'selfsigned';
import { EPHEMERAL_PORTS_ENV, loadConfig } from '../../lib/core/config.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account } from '../../lib/core/ports.ts';
import type { StorageNames } from '../../lib/core/schema.ts';
import { createInvoker } from '../../lib/gateway/deliverWiring.ts';
import { startGateway } from '../../lib/gateway/gateway.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession } from '../../lib/imap/session.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { testEndpoints } from '../support/storage.ts';

const setup = JSON.parse(process.env.POSTERN_CHILD_SETUP ?? '{}') as { names: StorageNames; account: Account };
const storage = createAwsStorage({ endpoints: await testEndpoints(), names: setup.names });
const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
const tls = { key: pems.private, cert: pems.cert };
const config = loadConfig({
  ...EPHEMERAL_PORTS_ENV,
  POSTERN_HOSTNAME: 'imap.test',
  POSTERN_INVOKER: 'lambda',
  ...Object.fromEntries(['ROUTE', 'FILTER', 'STORE', 'DELIVER'].map((fn) => [`POSTERN_FN_${fn}`, 'unused'])),
});
const { invoker } = await createInvoker(config, storage, silentLogger);
const authenticator = { authenticate: async () => ({ ok: true as const, account: setup.account }) };
await startGateway({ config, storage, invoker, authenticator, tls, log: silentLogger });
const backend = createImapBackend(storage.mail, storage.blobs, authenticator);
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
