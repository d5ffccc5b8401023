/**
 * The local S3 stand-in: a node:http server for the part of the S3 REST API Postern uses, path-style
 * (http://host:port/bucket/key), keeping objects on disk (store.ts) across restarts. Every request must be
 * signed (SigV4) with the key pair the server was started with, or it gets S3's 403 (auth.ts). Operations
 * are listed in routes.ts; tests inject faults in-process through `server.faults` (faults.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensurePrivateDir } from '../private.ts';
import { type Credentials, verifySignature } from './auth.ts';
import { S3Error } from './errors.ts';
import { FaultInjector } from './faults.ts';
import { parseTarget } from './http.ts';
import { type Ctx, type Log, newRequestId, sendError } from './respond.ts';
import { route, type Services } from './routes.ts';
import { Store } from './store.ts';
import { Uploads } from './uploads.ts';

export type { Credentials } from './auth.ts';
export type { FaultOp } from './faults.ts';

export interface S3ServerOptions {
  /** Holds all buckets and objects; made private (directories 0700, files 0600). */
  dataDir: string;
  /** The one key pair whose signatures are accepted. */
  credentials: Credentials;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port (see S3Server.port). */
  port?: number;
  /** JSON-lines logger for internal errors. */
  log?: Log;
  /** Smallest multipart part but the last; default 5 MiB, as in S3. */
  minPartSize?: number;
}

export interface S3Server {
  /** e.g. http://127.0.0.1:43211, for a client with forcePathStyle: true */
  endpoint: string;
  port: number;
  faults: FaultInjector;
  close(): Promise<void>;
}

async function handle(ctx: Ctx, services: Services, credentials: Credentials, faults: FaultInjector): Promise<void> {
  ctx.target = parseTarget(ctx.req.url ?? '/');
  // First, so that an unsigned request can neither do anything nor use up an injected fault.
  ctx.payloadHash = verifySignature(ctx.req, ctx.target, credentials);
  const { op, handle } = route(ctx);
  ctx.op = op;
  const fault = faults.take(op);
  if (fault) throw new S3Error(fault.code, fault.status, fault.message);
  await handle(ctx, services);
}

export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  ensurePrivateDir(opts.dataDir);
  const store = new Store(opts.dataDir);
  await store.init();
  const services: Services = { store, uploads: new Uploads(store, opts.minPartSize ?? 5 * 1024 * 1024) };
  const faults = new FaultInjector();
  const active = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const ctx: Ctx = {
      req,
      res,
      method: req.method ?? 'GET',
      target: parseTarget('/'),
      op: 'Unknown',
      requestId: newRequestId(),
      payloadHash: '',
    };
    const done = handle(ctx, services, opts.credentials, faults)
      .catch((err) => sendError(ctx, err, opts.log))
      .finally(() => active.delete(done));
    active.add(done);
  });
  server.keepAliveTimeout = 60_000;
  // Answer a malformed request before closing, rather than resetting a client that is still sending it.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host =
    address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  const close = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
    await Promise.allSettled([...active]);
  };
  return { endpoint: `http://${host}:${port}`, port, faults, close: () => (closing ??= close()) };
}
