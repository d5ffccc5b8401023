/**
 * One IMAP server over a loopback socket with real storage (the run's DynamoDB Local and S3 stand-in) for
 * the mailbox-level tests (LIST, STATUS, QUOTA): each test adds its own account, so mailbox trees and
 * usage never mix; only the password check is faked.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { ImapFlow } from 'imapflow';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, Storage } from '../../lib/core/ports.ts';
import { createImapBackend } from '../../lib/imap/backend.ts';
import { ImapSession } from '../../lib/imap/session.ts';
import { type MailFixture, mailFixture } from '../contract/mail-store-support.ts';
import { ImapClient, imapflow } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';

export const PASSWORD = 'secret';

export interface MailboxServer {
  readonly storage: Storage;
  /** The tables underneath, for a test that must age an item. */
  readonly fixture: MailFixture;
  readonly port: number;
  /** A new account (`name@example.com`) with only INBOX (subscribed). */
  addAccount(name: string, opts?: { quotaBytes?: number }): Promise<Account>;
  /** A logged-in raw client. */
  login(account: Account): Promise<ImapClient>;
  /** A connected imapflow client (a real client's view). */
  imapflow(account: Account): Promise<ImapFlow>;
  close(): void;
}

export async function mailboxServer(): Promise<MailboxServer> {
  const fixture = await mailFixture();
  const { storage } = fixture;
  await storage.directory.addDomain('example.com');
  const accounts = new Map<string, Account>();
  const authenticator = {
    async authenticate({ username, password }: { username: string; password: string }): Promise<AuthResult> {
      const account = accounts.get(username);
      return account && password === PASSWORD ? { ok: true, account } : { ok: false, reason: 'invalid' };
    },
  };
  const tls = await testTls();
  const backend = createImapBackend(storage.mail, storage.blobs, authenticator);
  let n = 0;
  const server: Server = createServer((socket) => {
    const session = new ImapSession(
      { socket, cid: `m${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      backend,
      { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 50, tls },
    );
    void session.run();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    storage,
    fixture,
    port,
    async addAccount(name, opts = {}) {
      const address = `${name}@example.com`;
      const account = await storage.directory.addAccount({ address, passwordHash: 'x', ...opts });
      await storage.mail.createMailbox(account.accountId, 'INBOX', { subscribed: true });
      accounts.set(address, account);
      return account;
    },
    async login(account) {
      const c = await ImapClient.connect(port);
      assert.match(await c.line(), /^\* OK /);
      assert.match((await c.cmd(`LOGIN ${account.address} ${PASSWORD}`)).status, /^a\d+ OK /);
      return c;
    },
    async imapflow(account) {
      const auth = { user: account.address, pass: PASSWORD };
      const client = imapflow(port, auth, 'plain');
      await client.connect();
      return client;
    },
    close: () => server.close(),
  };
}

/** Creates the mailboxes, the subscribed ones (`+name`) subscribed. */
export async function createTree(storage: Storage, account: Account, names: readonly string[]): Promise<void> {
  for (const spec of names) {
    const subscribed = spec.startsWith('+');
    await storage.mail.createMailbox(account.accountId, subscribed ? spec.slice(1) : spec, { subscribed });
  }
}
