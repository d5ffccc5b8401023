/**
 * A whole gateway in the test process: fresh storage, every listener on an ephemeral loopback port, the
 * mail-logic functions behind the LocalInvoker (JSON round-tripped, as in the emulator), a throwaway
 * self-signed certificate, and helpers to make accounts. It closes in a root `after` hook when started at a
 * file's top level; inside a test, close it with `t.after(() => tg.close())`.
 */
import { after } from 'node:test';
import selfsigned from 'selfsigned';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import type { Config } from '../../lib/core/config.ts';
import { createLogger, type Logger, silentLogger } from '../../lib/core/log.ts';
import type { Metrics } from '../../lib/core/metrics.ts';
import type { OutboundQueue } from '../../lib/core/outbound.ts';
import { hashPassword } from '../../lib/core/password.ts';
import type { Account, Invoker, Storage } from '../../lib/core/ports.ts';
import { createInvoker, startDeliverKicker } from '../../lib/gateway/deliverWiring.ts';
import { type Gateway, startGateway } from '../../lib/gateway/gateway.ts';
import type { TlsMaterial } from '../../lib/net/types.ts';
import { createHandlers } from '../../lib/pipeline/handlers.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { testConfig } from './config.ts';
import { freshStorage } from './storage.ts';

let tlsMaterial: Promise<TlsMaterial> | undefined;

/** One self-signed certificate per test process (RSA generation is slow). */
export function testTls(): Promise<TlsMaterial> {
  tlsMaterial ??= selfsigned
    .generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' })
    .then((pems) => ({ key: pems.private, cert: pems.cert }));
  return tlsMaterial;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly storage: Storage;
  readonly config: Config;
  readonly tls: TlsMaterial;
  /** Port of a listener by name: smtp, submission, submissions, pop3, pop3s, imap, imaps. */
  port(name: string): number;
  /** Creates domain (if needed), account and default mailboxes. */
  addAccount(address: string, password: string, quotaBytes?: number): Promise<Account>;
  close(): Promise<void>;
}

export async function startTestGateway(
  opts: {
    env?: Record<string, string>;
    storage?: Storage;
    invoker?: (storage: Storage) => Invoker;
    log?: Logger;
    /** The outbound queue submission enqueues into (an in-memory fake in protocol tests). */
    queue?: OutboundQueue;
    /**
     * Work the queue as the gateway process does (lib/gateway/deliverWiring.ts): `deliver` with the transport,
     * DKIM signer and DSN hook that `env` configures, kicked after each enqueue and every POSTERN_QUEUE_POLL_MS.
     */
    deliver?: boolean;
    /** Wraps whichever invoker the gateway gets (lib/cost's test counts invocations through it). */
    wrapInvoker?: (invoker: Invoker) => Invoker;
    /** Where the gateway's metrics go (a captured EMF sink in metrics tests); absent: nowhere. */
    metrics?: Metrics;
    /** The certificate to serve (a LiveTls to renew it while the gateway runs); default testTls(). */
    tls?: TlsMaterial;
  } = {},
): Promise<TestGateway> {
  // Registered before freshStorage's hook, so that the queue stops being worked before its storage closes.
  let stopDelivering = async () => {};
  after(() => stopDelivering());
  const storage = opts.storage ?? (await freshStorage());
  // every setting of this gateway comes from `env`: nothing is shared with other gateways through process.env
  const config = testConfig({ POSTERN_HOSTNAME: 'mx.test.example', POSTERN_ALLOW_PLAINTEXT_AUTH: '1', ...opts.env });
  const tls = opts.tls ?? (await testTls());
  const log = opts.log ?? (process.env.POSTERN_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger);
  const working = opts.deliver ? await createInvoker(config, storage, log, opts.metrics) : undefined;
  const built = working?.invoker ?? opts.invoker?.(storage) ?? new LocalInvoker(createHandlers(storage));
  const invoker = opts.wrapInvoker?.(built) ?? built;
  const kicker = working && startDeliverKicker(config, invoker, working.delivers, log);
  const kickQueue = kicker && (() => kicker.kick());
  if (kicker) stopDelivering = () => kicker.stop();
  const authenticator = createAuthenticator(storage.directory, config.auth);
  const deps = {
    config,
    storage,
    invoker,
    authenticator,
    tls,
    log,
    queue: opts.queue,
    kickQueue,
    metrics: opts.metrics,
  };
  const gateway = await startGateway(deps);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await gateway.close(0);
    await kicker?.stop();
  };
  after(close);
  return {
    gateway,
    storage,
    config,
    tls,
    port(name) {
      const listener = gateway.listeners.find((l) => l.name === name);
      if (!listener) throw new Error(`no listener ${name}`);
      return listener.port;
    },
    async addAccount(address, password, quotaBytes) {
      const domain = address.slice(address.lastIndexOf('@') + 1);
      if (!(await storage.directory.getDomain(domain))) await storage.directory.addDomain(domain);
      const account = await storage.directory.addAccount({
        address,
        passwordHash: await hashPassword(password),
        quotaBytes,
      });
      await storage.mail.ensureDefaultMailboxes(account.accountId);
      return account;
    },
    close,
  };
}
