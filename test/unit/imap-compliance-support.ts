/**
 * What the IMAP compliance battery (test/unit/imap-compliance-*.test.ts) shares: one IMAP server per test
 * file over a loopback socket, with the real session, codec and storage (the run's DynamoDB Local and S3
 * stand-in) and a fixed password check; a logged-in client; messages put into a mailbox the way the store
 * step keeps them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before } from 'node:test';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, Storage } from '../../lib/core/ports.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession, type ImapSessionOptions } from '../../lib/imap/session.ts';
import { InProcessChangeNotifier } from '../../lib/storage/changeNotifier.ts';
import { type Delivered, deliverTo, ImapClient } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';
import { freshStorage } from '../support/storage.ts';

export const USER = 'alice@example.com';
/** Passwords the fake authenticator takes: a plain one, and one that needs quoting or a literal. */
export const PASSWORDS = ['secret', 'sp ace "q" \\b\\'];

export interface ComplianceServer {
  storage: Storage;
  account: Account;
  port: number;
  /** Creates a mailbox and puts the messages in it, in order. */
  mailboxWith(name: string, messages: readonly (string | Buffer)[], opts?: DeliverOptions): Promise<Delivered[]>;
  deliver(name: string, message: string | Buffer, opts?: DeliverOptions): Promise<Delivered>;
  /** Resolves once the server listens (the file's first before hook; call it from other hooks). */
  ready(): Promise<void>;
  /** A client past LOGIN (the greeting and the tagged OK read). */
  login(): Promise<ImapClient>;
}

export interface DeliverOptions {
  readonly flags?: string[];
  readonly internalDate?: number;
}

/** Starts one server for the calling test file (before/after hooks). */
export function complianceServer(opts: Partial<ImapSessionOptions> = {}): ComplianceServer {
  const servers: Server[] = [];
  const env = {} as ComplianceServer;
  let started: Promise<void> | undefined;
  const start = async () => {
    env.storage = await freshStorage();
    await env.storage.directory.addDomain('example.com');
    env.account = await env.storage.directory.addAccount({ address: USER, passwordHash: 'x' });
    await env.storage.mail.ensureDefaultMailboxes(env.account.accountId);
    const authenticator = {
      async authenticate(c: { username: string; password: string }): Promise<AuthResult> {
        return c.username === USER && PASSWORDS.includes(c.password)
          ? { ok: true, account: env.account }
          : { ok: false, reason: 'invalid' };
      },
    };
    const backend = createImapBackend(
      env.storage.mail,
      env.storage.blobs,
      authenticator,
      new InProcessChangeNotifier(),
    );
    const tls = await testTls();
    let n = 0;
    const server = createServer((socket) => {
      const session = new ImapSession(
        { socket, cid: `c${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
        backend,
        { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 50, tls, ...opts },
      );
      void session.run();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env.port = (server.address() as { port: number }).port;
  };
  env.ready = () => {
    started ??= start();
    return started;
  };
  before(() => env.ready());
  after(() => {
    for (const s of servers) s.close();
  });
  env.deliver = (name, message, o = {}) =>
    deliverTo(env.storage, env.account.accountId, Buffer.isBuffer(message) ? message : Buffer.from(message, 'latin1'), {
      mailbox: name,
      ...o,
    });
  env.mailboxWith = async (name, messages, o = {}) => {
    await env.storage.mail.createMailbox(env.account.accountId, name);
    const out: Delivered[] = [];
    for (const m of messages) out.push(await env.deliver(name, m, o));
    return out;
  };
  env.login = async () => {
    const c = await ImapClient.connect(env.port);
    assert.match(await c.line(), /^\* OK /);
    assert.match((await c.cmd(`LOGIN ${USER} secret`, 'login')).status, /^login OK /);
    return c;
  };
  return env;
}

/** Messages with CRLF line ends written with \n in the source. */
export const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');

/** The capabilities the server advertises now. */
export async function capabilities(c: ImapClient): Promise<string[]> {
  const r = await c.cmd('CAPABILITY');
  const line = r.untagged.find((l) => l.startsWith('* CAPABILITY '));
  assert.ok(line, r.untagged.join('\n'));
  return line.slice('* CAPABILITY '.length).split(' ');
}
