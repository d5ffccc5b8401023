/**
 * The maildrop lock (RFC 1939 §8, [IN-USE] of RFC 2449 §8.1.2): one session per maildrop, across sessions,
 * across gateways on one store, across gateway processes; a lease that frees itself when its gateway task
 * dies; and no deletion at QUIT when the lease was lost meanwhile.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { type GatewayChild, spawnGateway } from '../../bench/support/spawnGateway.ts';
import { TemporaryError } from '../../lib/core/errors.ts';
import type { LeaseStore, Storage } from '../../lib/core/ports.ts';
import { startTestGateway } from '../support/gateway.ts';
import { testEndpoints } from '../support/storage.ts';
import { deliver, makeMessage, poplib, RawClient, text } from './pop3-support.ts';

const tg = await startTestGateway();

async function newAccount() {
  const user = `lock-${randomBytes(4).toString('hex')}@example.com`;
  const pass = `pw-${randomBytes(4).toString('hex')}`;
  const account = await tg.addAccount(user, pass);
  return { account, user, pass };
}

/** Logs in with a raw client; returns the client and the PASS reply. */
async function login(port: number, user: string, pass: string): Promise<{ c: RawClient; reply: string }> {
  const c = await RawClient.connect(port);
  await c.line();
  await c.cmd(`USER ${user}`);
  return { c, reply: await c.cmd(`PASS ${pass}`) };
}

async function storedCount(storage: Storage, accountId: string): Promise<number> {
  const inbox = (await storage.mail.getMailbox(accountId, 'INBOX'))!;
  return (await storage.mail.listMessages(inbox)).length;
}

describe('POP3 maildrop lock', () => {
  it('a second session gets -ERR [IN-USE] until the first one QUITs (RFC 2449 §8.1.2)', async () => {
    const { account, user, pass } = await newAccount();
    await deliver(tg.storage, account.accountId, makeMessage('x', 200));
    const first = await login(tg.port('pop3'), user, pass);
    assert.match(first.reply, /^\+OK/);
    const second = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [
        ['user', user],
        ['pass_', pass],
      ],
    });
    assert.match(text(second.steps[1]), /^ERROR -ERR \[IN-USE\] /);
    const ssl = await poplib({
      mode: 'ssl',
      port: tg.port('pop3s'),
      steps: [
        ['user', user],
        ['pass_', pass],
      ],
    });
    assert.match(text(ssl.steps[1]), /^ERROR -ERR \[IN-USE\] /);
    assert.match(await first.c.cmd('QUIT'), /^\+OK/);
    const third = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['stat'], ['quit']],
    });
    assert.deepEqual(third.steps[2], [1, makeMessage('x', 200).length]);
  });

  it('a dropped connection releases the lock at once', async () => {
    const { user, pass } = await newAccount();
    const first = await login(tg.port('pop3'), user, pass);
    assert.match(first.reply, /^\+OK/);
    first.c.destroy();
    let reply = '';
    for (let i = 0; i < 20 && !reply.startsWith('+OK'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const again = await login(tg.port('pop3'), user, pass);
      reply = again.reply;
      again.c.destroy();
    }
    assert.match(reply, /^\+OK/);
  });

  it('two gateways on one store respect each other’s lock', async () => {
    const other = await startTestGateway({ storage: tg.storage });
    const { account, user, pass } = await newAccount();
    await deliver(tg.storage, account.accountId, makeMessage('y', 300));
    const a = await login(tg.port('pop3'), user, pass);
    assert.match(a.reply, /^\+OK/);
    const b = await login(other.port('pop3'), user, pass);
    assert.match(b.reply, /^-ERR \[IN-USE\] /);
    assert.match(await a.c.cmd('QUIT'), /^\+OK/);
    await a.c.waitClosed();
    await b.c.cmd(`USER ${user}`);
    assert.match(await b.c.cmd(`PASS ${pass}`), /^\+OK maildrop has 1/);
    b.c.destroy();
  });

  describe('across gateway processes', () => {
    let child: GatewayChild | undefined;
    after(() => child?.kill());

    it('[IN-USE] across processes, and the lease frees itself when the holding task is killed', async () => {
      const { account, user, pass } = await newAccount();
      await deliver(tg.storage, account.accountId, makeMessage('z', 300));
      const leaseMs = 1500;
      child = await spawnGateway({
        endpoints: await testEndpoints(),
        names: tg.storage.names,
        tls: tg.tls,
        env: { POSTERN_ALLOW_PLAINTEXT_AUTH: '1', POSTERN_POP3_LEASE_MS: String(leaseMs) },
      });
      const holder = await login(child.ports.pop3, user, pass);
      assert.match(holder.reply, /^\+OK maildrop has 1/);
      assert.match(await holder.c.cmd('DELE 1'), /^\+OK/);

      const blocked = await login(tg.port('pop3'), user, pass);
      assert.match(blocked.reply, /^-ERR \[IN-USE\] /, 'the other process holds the maildrop');
      blocked.c.destroy();

      // The task dies: no QUIT, no release, no renewals. Its DELE must not be applied.
      await child.kill();
      const killedAt = Date.now();
      let reply = '';
      let c: RawClient | undefined;
      while (Date.now() - killedAt < leaseMs + 5000) {
        const attempt = await login(tg.port('pop3'), user, pass);
        reply = attempt.reply;
        if (reply.startsWith('+OK')) {
          c = attempt.c;
          break;
        }
        assert.match(reply, /^-ERR \[IN-USE\] /);
        attempt.c.destroy();
        await new Promise((r) => setTimeout(r, 100));
      }
      const freedAfter = Date.now() - killedAt;
      assert.match(reply, /^\+OK maildrop has 1/, 'the lease expired and nothing was deleted');
      assert.ok(freedAfter <= leaseMs + 1000, `freed after ${freedAfter} ms`);
      assert.match(await c!.cmd('QUIT'), /^\+OK/);
    });
  });

  it('does not delete at QUIT when the lease was lost meanwhile, and says [SYS/TEMP] (RFC 3206 §4)', async () => {
    // Gateway A's lease store can be cut off (a network partition between the task and DynamoDB).
    let partitioned = false;
    const real = tg.storage.leases;
    const leases: LeaseStore = {
      acquire: (k, o, t) => real.acquire(k, o, t),
      renew: (k, o, t) => (partitioned ? Promise.reject(new TemporaryError('partitioned')) : real.renew(k, o, t)),
      release: (k, o) => real.release(k, o),
    };
    const gwA = await startTestGateway({ storage: { ...tg.storage, leases }, env: { POSTERN_POP3_LEASE_MS: '600' } });

    const { account, user, pass } = await newAccount();
    await deliver(tg.storage, account.accountId, makeMessage('lost', 300));
    const a = await login(gwA.port('pop3'), user, pass);
    assert.match(a.reply, /^\+OK/);
    assert.match(await a.c.cmd('DELE 1'), /^\+OK/);
    partitioned = true;

    // While A cannot renew, its lease runs out and B takes the maildrop.
    let b: { c: RawClient; reply: string } | undefined;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 100));
      b = await login(tg.port('pop3'), user, pass);
      if (b.reply.startsWith('+OK')) break;
      b.c.destroy();
    }
    assert.match(b!.reply, /^\+OK maildrop has 1/);

    // A comes back and QUITs: its DELE must not be applied, B holds the maildrop.
    partitioned = false;
    assert.match(
      await a.c.cmd('QUIT'),
      /^-ERR \[SYS\/TEMP\] some deleted messages were not removed: the maildrop lock was lost/,
    );
    await a.c.waitClosed();
    assert.equal(await storedCount(tg.storage, account.accountId), 1);
    // B's session is unaffected and its own deletions work.
    assert.match(await b!.c.cmd('DELE 1'), /^\+OK/);
    assert.match(await b!.c.cmd('QUIT'), /^\+OK/);
    await b!.c.waitClosed();
    assert.equal(await storedCount(tg.storage, account.accountId), 0);
  });
});
