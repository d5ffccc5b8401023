/**
 * The shared authenticator every protocol logs in through (lib/auth/authenticator.ts): the password check,
 * attempts reserved before the hash, backoff per client address and per account-and-address pair (never a
 * lockout of the account), the per-account rate cap, the dummy hash for unknown users, and the rehash of old
 * hashes after a login.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AuthenticatorOptions, type AuthResult, createAuthenticator } from '../../lib/auth/authenticator.ts';
import { clientKey } from '../../lib/auth/clientKey.ts';
import { LruTable } from '../../lib/auth/lruTable.ts';
import { TemporaryError } from '../../lib/core/errors.ts';
import { createLogger } from '../../lib/core/log.ts';
import { hashPassword, needsRehash, type PasswordHasher, verifyPassword } from '../../lib/core/password.ts';
import type { Account, Directory } from '../../lib/core/ports.ts';

const PW = 'right password 1';
/** A hash the previous hashPassword stored (scrypt N=16384 r=8 p=1) for 'correct horse battery staple'. */
const LEGACY_SCRYPT = 'scrypt$16384$8$1$b/isZ6D+C8lAv7tcRKLRhw==$gQEsuFAOGCPO3h2oyzhmDZtX4KvG5N2M29Bm90U00+Q=';

interface FakeDirectory {
  readonly directory: Directory;
  readonly lookups: string[];
  readonly rehashed: { address: string; hash: string }[];
  readonly accounts: Map<string, Account>;
  /** Makes the next lookups throw a TemporaryError, or setPasswordHash fail. */
  failLookups: boolean;
  failSetPassword: boolean;
}

/** An in-memory Directory with the given accounts (password, or a stored hash with `hash:` in front). */
async function directoryWith(users: Record<string, string>): Promise<FakeDirectory> {
  const accounts = new Map<string, Account>();
  for (const [address, pw] of Object.entries(users)) {
    const passwordHash = pw.startsWith('hash:') ? pw.slice(5) : await hashPassword(pw);
    accounts.set(address, {
      accountId: `id-${address}`,
      address,
      domain: address.split('@')[1],
      passwordHash,
      quotaBytes: 0,
      createdAt: 0,
    });
  }
  const fake: FakeDirectory = {
    lookups: [],
    rehashed: [],
    accounts,
    failLookups: false,
    failSetPassword: false,
    directory: {
      async getAccountByAddress(address: string) {
        fake.lookups.push(address);
        if (fake.failLookups) throw new TemporaryError('directory unavailable');
        return accounts.get(address);
      },
      async setPasswordHash(address: string, hash: string) {
        if (fake.failSetPassword) throw new TemporaryError('directory unavailable');
        fake.rehashed.push({ address, hash });
        const account = accounts.get(address);
        if (account) accounts.set(address, { ...account, passwordHash: hash });
      },
    } as unknown as Directory,
  };
  return fake;
}

const realHasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword, needsRehash };

/** A stand-in without the cost, for tests that make hundreds of attempts on a shared 2-core machine. */
const cheapHasherHash = (password: string) => `cheap:${password}`;
const cheapHasher: PasswordHasher = {
  hash: async (password) => `cheap:${password}`,
  verify: async (password, stored) => stored === `cheap:${password}`,
  needsRehash: () => false,
};

/** Hashing that counts each verification (and the hash it was checked against), optionally held at a gate. */
function countingHasher(gate?: Promise<void>, base: PasswordHasher = realHasher) {
  const counted = { verifies: 0, against: [] as string[] };
  const hasher: PasswordHasher = {
    hash: base.hash,
    needsRehash: base.needsRehash,
    async verify(password, stored) {
      counted.verifies++;
      counted.against.push(stored);
      await gate;
      return base.verify(password, stored);
    },
  };
  return { hasher, counted };
}

/** A gate the test opens, to hold every admitted attempt inside its hash at once. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const reasons = (results: AuthResult[]) => results.map((r) => (r.ok ? 'ok' : r.reason));
const count = (results: AuthResult[], reason: string) => reasons(results).filter((r) => r === reason).length;

/** An authenticator on a clock the test moves; no failure delay unless asked. */
async function setup(
  users: Record<string, string>,
  options: Partial<AuthenticatorOptions> = {},
  base: PasswordHasher = realHasher,
) {
  const fake = await directoryWith(users);
  const { hasher, counted } = countingHasher(undefined, base);
  const clock = { now: 1_000_000 };
  const auth = createAuthenticator(
    fake.directory,
    { failureDelayMs: 0, ...options },
    { now: () => clock.now, passwords: hasher },
  );
  const login = (username: string, password: string, remoteAddress: string) =>
    auth.authenticate({ username, password, remoteAddress });
  return { fake, counted, clock, auth, login };
}

describe('authenticator: password check', () => {
  it('accepts the right password, normalising the address', async () => {
    const { login } = await setup({ 'alice@example.com': PW });
    const r = await login(' Alice@EXAMPLE.com ', PW, '10.0.0.1');
    assert.ok(r.ok);
    assert.equal(r.account.address, 'alice@example.com');
  });

  it('refuses wrong passwords and unknown users alike, after the failure delay', async () => {
    const { directory } = await directoryWith({ 'alice@example.com': PW });
    const auth = createAuthenticator(directory, { failureDelayMs: 150 });
    for (const username of ['alice@example.com', 'nobody@example.com', 'not an address']) {
      const started = performance.now();
      const r = await auth.authenticate({ username, password: 'bad', remoteAddress: '10.0.0.1' });
      assert.deepEqual(r, { ok: false, reason: 'invalid' });
      assert.ok(performance.now() - started >= 140, `${username} was slowed`);
    }
  });

  it('costs an unknown user one hash with the current algorithm (no user enumeration by timing)', async () => {
    const { counted, login } = await setup({ 'alice@example.com': PW });
    await login('ghost@example.com', 'x', '10.0.0.1');
    await login('not an address', 'x', '10.0.0.1');
    assert.equal(counted.verifies, 2);
    for (const dummy of counted.against) {
      assert.match(dummy, /^\$argon2id\$/);
      assert.equal(needsRehash(dummy), false, 'the dummy hash costs what a current hash costs');
    }
  });

  it('does not count an attempt that storage could not check, and passes the error on', async () => {
    const { fake, login } = await setup({ 'alice@example.com': PW }, { maxFailuresPerPair: 1 });
    fake.failLookups = true;
    await assert.rejects(login('alice@example.com', 'bad', '10.0.0.1'), TemporaryError);
    fake.failLookups = false;
    assert.deepEqual(reasons([await login('alice@example.com', 'bad', '10.0.0.1')]), ['invalid']);
    assert.deepEqual(reasons([await login('alice@example.com', PW, '10.0.0.1')]), ['throttled']);
  });
});

describe('authenticator: attempts are reserved before the hash', () => {
  it('runs at most the pair budget of hashes for 20 simultaneous wrong passwords from one address', async () => {
    const fake = await directoryWith({ 'alice@example.com': PW });
    const held = gate();
    const { hasher, counted } = countingHasher(held.promise);
    const auth = createAuthenticator(
      fake.directory,
      { failureDelayMs: 0, maxFailuresPerPair: 5, maxFailuresPerIp: 20 },
      { passwords: hasher },
    );
    const pending = Array.from({ length: 20 }, () =>
      auth.authenticate({ username: 'alice@example.com', password: 'wrong', remoteAddress: '198.51.100.7' }),
    );
    await nextTurn(); // every admitted attempt is now inside its hash
    held.open();
    const results = await Promise.all(pending);
    assert.equal(counted.verifies, 5);
    assert.equal(count(results, 'invalid'), 5);
    assert.equal(count(results, 'throttled'), 15);
  });

  it("a client's pool of 12 connections logging in at once with the right password: all in, at most the pair budget of checks at a time", async () => {
    const fake = await directoryWith({ 'alice@example.com': `hash:${cheapHasherHash(PW)}` });
    let active = 0;
    let most = 0;
    const hasher: PasswordHasher = {
      ...cheapHasher,
      async verify(password, stored) {
        most = Math.max(most, ++active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
        return cheapHasher.verify(password, stored);
      },
    };
    const auth = createAuthenticator(
      fake.directory,
      { failureDelayMs: 0, maxFailuresPerPair: 5 },
      { passwords: hasher },
    );
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        auth.authenticate({ username: 'alice@example.com', password: PW, remoteAddress: '198.51.100.9' }),
      ),
    );
    assert.deepEqual(reasons(results), Array(12).fill('ok'));
    assert.ok(most <= 5, `${most} checks at once`);
  });

  it('runs at most the address budget of hashes for 20 simultaneous logins to 20 accounts', async () => {
    const fake = await directoryWith({});
    const held = gate();
    const { hasher, counted } = countingHasher(held.promise);
    const auth = createAuthenticator(fake.directory, { failureDelayMs: 0, maxFailuresPerIp: 8 }, { passwords: hasher });
    const pending = Array.from({ length: 20 }, (_, i) =>
      auth.authenticate({ username: `u${i}@example.com`, password: 'guess', remoteAddress: '198.51.100.7' }),
    );
    await nextTurn();
    held.open();
    const results = await Promise.all(pending);
    assert.equal(counted.verifies, 8);
    assert.equal(count(results, 'throttled'), 12);
  });

  it('gives 200 simultaneous guesses from 10 addresses at one account 10 x the pair budget of hashes', async () => {
    const fake = await directoryWith({ 'alice@example.com': PW });
    const held = gate();
    const { hasher, counted } = countingHasher(held.promise, cheapHasher);
    const auth = createAuthenticator(
      fake.directory,
      { failureDelayMs: 0, maxFailuresPerPair: 3 },
      { passwords: hasher },
    );
    const pending = Array.from({ length: 200 }, (_, i) =>
      auth.authenticate({ username: 'alice@example.com', password: `g${i}`, remoteAddress: `203.0.113.${i % 10}` }),
    );
    await nextTurn();
    held.open();
    await Promise.all(pending);
    assert.equal(counted.verifies, 30);
  });

  it('does not even look the user up while throttled', async () => {
    const { fake, login } = await setup({ 'alice@example.com': PW }, { maxFailuresPerPair: 1 });
    await login('alice@example.com', 'x', '10.0.0.1');
    const before = fake.lookups.length;
    await login('alice@example.com', PW, '10.0.0.1');
    assert.equal(fake.lookups.length, before);
  });
});

describe('authenticator: backoff per address and per account-and-address pair', () => {
  const options = { maxFailuresPerPair: 3, maxFailuresPerIp: 100, backoffMs: 1000, maxBackoffMs: 8000 };

  it('does not let an attacker at address A keep the user at address B out', async () => {
    const { login } = await setup({ 'alice@example.com': PW }, options);
    for (let i = 0; i < 50; i++) await login('alice@example.com', `guess${i}`, '192.0.2.66');
    assert.ok((await login('alice@example.com', PW, '198.51.100.20')).ok);
  });

  it('makes the attacker at A wait, doubling per failure up to the cap, checking no password meanwhile', async () => {
    const { clock, counted, login } = await setup({ 'alice@example.com': PW }, options);
    const attack = (password = 'guess') => login('alice@example.com', password, '192.0.2.66');
    for (let i = 0; i < 3; i++) assert.deepEqual(reasons([await attack()]), ['invalid']); // the free failures
    for (const wait of [1000, 2000, 4000, 8000, 8000]) {
      const refused = await attack(PW);
      assert.deepEqual(refused, { ok: false, reason: 'throttled', retryAfterMs: wait }, 'even the right password');
      const hashes = counted.verifies;
      clock.now += wait - 1;
      assert.deepEqual(reasons([await attack()]), ['throttled']);
      assert.equal(counted.verifies, hashes, 'no hash while throttled');
      clock.now += 1;
      assert.deepEqual(reasons([await attack()]), ['invalid'], 'one attempt after the wait');
    }
  });

  it('clears a pair’s penalty on its success, but not the address’s', async () => {
    const { clock, login } = await setup({ 'alice@example.com': PW, 'bob@example.com': PW }, options);
    const at = '192.0.2.10';
    for (let i = 0; i < 3; i++) await login('alice@example.com', 'typo', at);
    clock.now += 1000;
    assert.ok((await login('alice@example.com', PW, at)).ok);
    // Without the clear the next failure would be the fourth: three more are free again.
    for (let i = 0; i < 3; i++) assert.deepEqual(reasons([await login('alice@example.com', 'typo', at)]), ['invalid']);
    assert.deepEqual(reasons([await login('alice@example.com', PW, at)]), ['throttled']);

    const spray = await setup({ 'alice@example.com': PW }, { ...options, maxFailuresPerIp: 4 });
    for (let i = 0; i < 3; i++) await spray.login(`u${i}@example.com`, 'guess', at);
    assert.ok((await spray.login('alice@example.com', PW, at)).ok);
    await spray.login('u3@example.com', 'guess', at);
    assert.deepEqual(reasons([await spray.login('alice@example.com', PW, at)]), ['throttled'], 'address budget kept');
  });

  it('backs off an address across accounts past its own budget; other addresses are not affected', async () => {
    const { login } = await setup({ 'alice@example.com': PW }, { ...options, maxFailuresPerIp: 4 });
    for (let i = 0; i < 4; i++) await login(`u${i}@example.com`, 'x', '192.0.2.7');
    assert.deepEqual(reasons([await login('alice@example.com', PW, '192.0.2.7')]), ['throttled']);
    assert.ok((await login('alice@example.com', PW, '192.0.2.8')).ok);
  });

  it('counts an IPv6 /64 as one address (RFC 6177: one subscriber gets the whole /64)', async () => {
    const { login } = await setup({ 'alice@example.com': PW }, { ...options, maxFailuresPerIp: 4 });
    for (let i = 1; i <= 4; i++) await login(`u${i}@example.com`, 'x', `2001:db8:0:1::${i.toString(16)}`);
    assert.deepEqual(reasons([await login('alice@example.com', PW, '2001:db8:0:1:ffff::9')]), ['throttled']);
    assert.ok((await login('alice@example.com', PW, '2001:db8:0:2::1')).ok);
  });

  it('forgets failures a window after the latest one', async () => {
    const { clock, login } = await setup({ 'alice@example.com': PW }, { ...options, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      await login('alice@example.com', 'bad', '10.0.0.1');
      clock.now += 8000;
    }
    clock.now += 60_001;
    for (let i = 0; i < 3; i++)
      assert.deepEqual(reasons([await login('alice@example.com', 'bad', '10.0.0.1')]), ['invalid']);
  });
});

describe('authenticator: per-account rate cap', () => {
  const options = { maxFailuresPerPair: 5, maxFailuresPerIp: 100, accountFailuresPerHour: 10 };

  it('slows many addresses guessing at one account to the hourly rate, but not the user from their own address', async () => {
    const { clock, counted, login } = await setup({ 'alice@example.com': PW }, options);
    assert.ok((await login('alice@example.com', PW, '203.0.113.1')).ok, 'alice at home');
    for (let i = 1; i <= 10; i++) await login('alice@example.com', 'guess', `198.51.100.${i}`);
    const hashes = counted.verifies;
    const refused = await login('alice@example.com', 'guess', '198.51.100.11');
    assert.deepEqual(refused, { ok: false, reason: 'throttled', retryAfterMs: 6 * 60_000 });
    assert.equal(counted.verifies, hashes);
    assert.ok((await login('alice@example.com', PW, '203.0.113.1')).ok, 'home is not capped');
    // From a new address she is slowed to the rate, not locked out.
    assert.deepEqual(reasons([await login('alice@example.com', PW, '192.0.2.200')]), ['throttled']);
    clock.now += 6 * 60_000;
    assert.ok((await login('alice@example.com', PW, '192.0.2.200')).ok);
  });

  it('does not charge the cap for successful logins', async () => {
    const { login } = await setup({ 'alice@example.com': PW }, { ...options, accountFailuresPerHour: 2 });
    for (let i = 0; i < 5; i++) assert.ok((await login('alice@example.com', PW, `192.0.2.${i}`)).ok);
  });
});

describe('authenticator: rehash after login', () => {
  it('stores an argon2id hash after a login with a legacy scrypt hash, once', async () => {
    const { fake, login } = await setup({ 'old@example.com': `hash:${LEGACY_SCRYPT}` });
    assert.deepEqual(reasons([await login('old@example.com', 'wrong', '10.0.0.1')]), ['invalid']);
    assert.equal(fake.rehashed.length, 0, 'no rehash without the password');
    assert.ok((await login('old@example.com', 'correct horse battery staple', '10.0.0.1')).ok);
    assert.equal(fake.rehashed.length, 1);
    const { address, hash } = fake.rehashed[0];
    assert.equal(address, 'old@example.com');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(await verifyPassword('correct horse battery staple', hash));
    assert.ok((await login('old@example.com', 'correct horse battery staple', '10.0.0.1')).ok);
    assert.equal(fake.rehashed.length, 1, 'a current hash is left alone');
  });

  it('still logs the user in when the rehash cannot be stored, and says so in the log', async () => {
    const fake = await directoryWith({ 'old@example.com': `hash:${LEGACY_SCRYPT}` });
    fake.failSetPassword = true;
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line) });
    const auth = createAuthenticator(fake.directory, { failureDelayMs: 0 }, { log });
    const r = await auth.authenticate({
      username: 'old@example.com',
      password: 'correct horse battery staple',
      remoteAddress: '10.0.0.1',
    });
    assert.ok(r.ok);
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).msg, 'password rehash failed');
    assert.ok(!lines[0].includes('correct horse'), 'no password in the log');
  });
});

describe('throttle building blocks', () => {
  it('keys IPv4 (also IPv4-mapped) by address and IPv6 by its /64', () => {
    assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('2001:db8:0:1::5'), '2001:db8:0:1::/64');
    assert.equal(clientKey('2001:DB8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(clientKey(''), '');
  });

  it('keeps at most maxKeys entries, dropping the least recently stored but never a protected one', () => {
    const table = new LruTable<{ busy: boolean }>(3, (v) => !v.busy);
    table.set('busy', { busy: true });
    for (let i = 0; i < 1000; i++) table.set(`spray${i}`, { busy: false });
    assert.equal(table.size, 3);
    assert.ok(table.get('busy'), 'an attempt in flight is not forgotten');
    assert.ok(table.get('spray999') && table.get('spray998'));
    assert.equal(table.get('spray0'), undefined);
  });

  it('bounds its memory under a spray from many addresses and still throttles the newest', async () => {
    const limits = { maxFailuresPerPair: 1, maxFailuresPerIp: 1, maxTrackedKeys: 50 };
    const { login } = await setup({}, limits, cheapHasher);
    for (let i = 0; i < 500; i++) await login(`u${i}@example.com`, 'x', `10.0.${i >> 8}.${i & 255}`);
    assert.deepEqual(reasons([await login('u499@example.com', 'x', '10.0.1.243')]), ['throttled']);
  });
});
