/**
 * An IMAP session server for a test file: real codec, real storage (the run's DynamoDB Local and S3
 * stand-in) behind the ImapBackend, one account `alice@example.com` / `secret`; only the password check
 * is faked.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after } from 'node:test';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, Storage } from '../../lib/core/ports.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession, type ImapSessionOptions } from '../../lib/imap/session.ts';
import { ImapClient } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';
import { freshStorage } from '../support/storage.ts';

// Registered at load time: an `after` inside a `before` hook would end with the first test.
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

export interface ImapTestServer {
  readonly storage: Storage;
  readonly account: Account;
  readonly port: number;
  /** A connected client after LOGIN. */
  login(): Promise<ImapClient>;
}

export async function imapTestServer(
  opts: Partial<ImapSessionOptions> = {},
  quotaBytes?: number,
): Promise<ImapTestServer> {
  const storage = await freshStorage();
  await storage.directory.addDomain('example.com');
  const account = await storage.directory.addAccount({ address: 'alice@example.com', passwordHash: 'x', quotaBytes });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  const authenticator = {
    async authenticate({ username, password }: { username: string; password: string }) {
      return username === 'alice@example.com' && password === 'secret'
        ? { ok: true as const, account }
        : { ok: false as const, reason: 'invalid' as const };
    },
  };
  const backend = createImapBackend(storage.mail, storage.blobs, authenticator);
  const tls = await testTls();
  let n = 0;
  const server: Server = createServer((socket) => {
    const session = new ImapSession(
      { socket, cid: `c${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      backend,
      { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 50, tls, ...opts },
    );
    void session.run();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    storage,
    account,
    port,
    async login() {
      const c = await ImapClient.connect(port);
      assert.match(await c.line(), /^\* OK /);
      assert.match((await c.cmd('LOGIN alice@example.com secret')).status, /^a\d+ OK /);
      return c;
    },
  };
}
