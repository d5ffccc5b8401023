/**
 * The shared authenticator POP3 logs in through: password check, failure delay, throttling per account and
 * per IP, and the dummy-hash path for unknown users.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { hashPassword } from '../../lib/core/password.ts';
import type { Account, Directory } from '../../lib/core/ports.ts';

async function directoryWith(users: Record<string, string>): Promise<{ directory: Directory; lookups: string[] }> {
  const accounts = new Map<string, Account>();
  for (const [address, pw] of Object.entries(users)) {
    accounts.set(address, {
      accountId: `id-${address}`,
      address,
      domain: address.split('@')[1],
      passwordHash: await hashPassword(pw),
      quotaBytes: 0,
      createdAt: 0,
    });
  }
  const lookups: string[] = [];
  const directory = {
    async getAccountByAddress(address: string) {
      lookups.push(address);
      return accounts.get(address);
    },
  } as unknown as Directory;
  return { directory, lookups };
}

describe('authenticator', () => {
  it('accepts the right password, normalising the address', async () => {
    const { directory } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(directory, { failureDelayMs: 0 });
    const r = await auth.authenticate({ username: ' Alice@EXAMPLE.com ', password: 'pw', remoteAddress: '10.0.0.1' });
    assert.ok(r.ok);
    assert.equal(r.account.address, 'alice@example.com');
  });

  it('refuses wrong passwords and unknown users alike, after a delay', async () => {
    const { directory } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(directory, { failureDelayMs: 150 });
    for (const username of ['alice@example.com', 'nobody@example.com', 'not an address']) {
      const started = performance.now();
      const r = await auth.authenticate({ username, password: 'bad', remoteAddress: '10.0.0.1' });
      assert.deepEqual(r, { ok: false, reason: 'invalid' });
      assert.ok(performance.now() - started >= 140, `${username} was slowed`);
    }
  });

  it('costs an unknown user a password hash too (no user enumeration by timing)', async () => {
    const { directory } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(directory, { failureDelayMs: 0 });
    await auth.authenticate({ username: 'warm@example.com', password: 'x', remoteAddress: '10.9.9.9' }); // dummy hash ready
    const time = async (username: string) => {
      const started = performance.now();
      await auth.authenticate({ username, password: 'x', remoteAddress: `10.1.1.${Math.floor(Math.random() * 200)}` });
      return performance.now() - started;
    };
    const known = Math.min(await time('alice@example.com'), await time('alice@example.com'));
    const unknown = Math.min(await time('ghost@example.com'), await time('ghost@example.com'));
    assert.ok(unknown > known / 3, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
  });

  it('locks an account after N failures in the window, even for the right password, then lets it in again', async () => {
    let now = 1_000_000;
    const { directory } = await directoryWith({ 'alice@example.com': 'pw', 'bob@example.com': 'bobpw' });
    const auth = createAuthenticator(
      directory,
      { failureDelayMs: 0, maxFailuresPerAccount: 3, maxFailuresPerIp: 100, windowMs: 60_000, lockoutMs: 120_000 },
      () => now,
    );
    const tryPw = (username: string, password: string, ip = '10.0.0.1') =>
      auth.authenticate({ username, password, remoteAddress: ip });
    for (let i = 0; i < 3; i++) assert.equal((await tryPw('alice@example.com', 'bad', `10.0.0.${i}`)).ok, false);
    const locked = await tryPw('alice@example.com', 'pw', '10.0.0.99');
    assert.equal(locked.ok, false);
    assert.equal(!locked.ok && locked.reason, 'throttled');
    assert.equal(!locked.ok && locked.reason === 'throttled' && locked.retryAfterMs, 120_000);
    // Other accounts are not affected.
    assert.ok((await tryPw('bob@example.com', 'bobpw')).ok);
    now += 120_001;
    assert.ok((await tryPw('alice@example.com', 'pw')).ok);
  });

  it('forgets failures older than the window, and a success clears the account', async () => {
    let now = 0;
    const { directory } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(
      directory,
      { failureDelayMs: 0, maxFailuresPerAccount: 3, maxFailuresPerIp: 100, windowMs: 60_000, lockoutMs: 60_000 },
      () => now,
    );
    const tryPw = (password: string) =>
      auth.authenticate({ username: 'alice@example.com', password, remoteAddress: '10.0.0.1' });
    await tryPw('bad');
    await tryPw('bad');
    now += 61_000;
    await tryPw('bad');
    assert.ok((await tryPw('pw')).ok, 'two failures were outside the window');
    await tryPw('bad');
    await tryPw('bad');
    assert.ok((await tryPw('pw')).ok, 'the success before cleared the count');
  });

  it('locks an IP after its own threshold, across accounts', async () => {
    const { directory } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(directory, { failureDelayMs: 0, maxFailuresPerAccount: 100, maxFailuresPerIp: 4 });
    for (let i = 0; i < 4; i++)
      await auth.authenticate({ username: `u${i}@example.com`, password: 'x', remoteAddress: '192.0.2.7' });
    const r = await auth.authenticate({ username: 'alice@example.com', password: 'pw', remoteAddress: '192.0.2.7' });
    assert.equal(!r.ok && r.reason, 'throttled');
    assert.ok(
      (await auth.authenticate({ username: 'alice@example.com', password: 'pw', remoteAddress: '192.0.2.8' })).ok,
    );
  });

  it('does not even look the user up while throttled', async () => {
    const { directory, lookups } = await directoryWith({ 'alice@example.com': 'pw' });
    const auth = createAuthenticator(directory, { failureDelayMs: 0, maxFailuresPerAccount: 1 });
    await auth.authenticate({ username: 'alice@example.com', password: 'x', remoteAddress: '10.0.0.1' });
    const before = lookups.length;
    await auth.authenticate({ username: 'alice@example.com', password: 'pw', remoteAddress: '10.0.0.1' });
    assert.equal(lookups.length, before);
  });
});
