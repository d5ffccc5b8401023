import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TemporaryError } from '../../lib/core/errors.ts';
import { hashPassword } from '../../lib/core/password.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { MAX_ALIAS_DEPTH, route } from '../../lib/pipeline/route.ts';
import { freshStorage } from '../support/storage.ts';

const storage: Storage = await freshStorage();

/** Account ids by address, for every account either describe adds. */
const ids: Record<string, string> = {};

describe('route', () => {
  before(async () => {
    const d = storage.directory;
    await d.addDomain('ours.test');
    await sleep(3); // ours.test is the first domain added (the bare postmaster's fallback)
    await d.addDomain('catch.test');
    await d.addDomain('mx.ours.test');
    const hash = await hashPassword('pw');
    for (const a of ['bob@ours.test', 'carol@ours.test', 'dave@catch.test', 'pm@ours.test']) {
      ids[a] = (
        await d.addAccount({ address: a, passwordHash: hash, quotaBytes: a.startsWith('carol') ? 1000 : 0 })
      ).accountId;
    }
    await d.addAlias('team@ours.test', ['bob@ours.test', 'carol@ours.test']);
    await d.addAlias('nested@ours.test', ['team@ours.test', 'bob@ours.test']);
    await d.addAlias('loop1@ours.test', ['loop2@ours.test']);
    await d.addAlias('loop2@ours.test', ['loop1@ours.test', 'bob@ours.test']);
    await d.addAlias('ext@ours.test', ['someone@elsewhere.test']);
    await d.addAlias('@catch.test', ['dave@catch.test']);
    await d.addAlias('postmaster@ours.test', ['pm@ours.test']);
    await d.addAlias('pure1@ours.test', ['pure2@ours.test']);
    await d.addAlias('pure2@ours.test', ['pure1@ours.test']);
    // chain0 -> chain1 -> ... -> chainN -> carol, with carol exactly MAX_ALIAS_DEPTH levels below chain1
    for (let i = 0; i < MAX_ALIAS_DEPTH; i++) await d.addAlias(`chain${i}@ours.test`, [`chain${i + 1}@ours.test`]);
    await d.addAlias(`chain${MAX_ALIAS_DEPTH}@ours.test`, ['carol@ours.test']);
    // diamond -> deep1 -> ... -> deep7 -> shared (level 8), and diamond -> shallow -> shared (level 2);
    // shared -> tail -> carol is only within reach from the shallow side
    await d.addAlias('diamond@ours.test', ['deep1@ours.test', 'shallow@ours.test']);
    for (let i = 1; i < 7; i++) await d.addAlias(`deep${i}@ours.test`, [`deep${i + 1}@ours.test`]);
    await d.addAlias('deep7@ours.test', ['shared@ours.test']);
    await d.addAlias('shallow@ours.test', ['shared@ours.test']);
    await d.addAlias('shared@ours.test', ['tail@ours.test']);
    await d.addAlias('tail@ours.test', ['carol@ours.test']);
  });

  const r = (recipient: string) => route(storage.directory, { recipient, hostname: 'mx.test.ours.test' });

  test('local account, case-insensitive', async () => {
    for (const a of ['bob@ours.test', 'BOB@OURS.TEST', 'Bob@Ours.Test']) {
      const res = await r(a);
      assert.equal(res.kind, 'local', a);
      if (res.kind === 'local') {
        assert.deepEqual(res.accountIds, [ids['bob@ours.test']]);
        assert.deepEqual(res.accounts[0], { accountId: ids['bob@ours.test'], address: 'bob@ours.test', quotaBytes: 0 });
      }
    }
  });

  test('plus-addressing: user+tag@ goes to user', async () => {
    const res = await r('bob+newsletters@ours.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['bob@ours.test']]);
  });

  test('aliases fan out to several targets, nested, loops ignored, each account once', async () => {
    for (const [alias, expected] of [
      ['team@ours.test', ['bob@ours.test', 'carol@ours.test']],
      ['nested@ours.test', ['bob@ours.test', 'carol@ours.test']],
      ['loop1@ours.test', ['bob@ours.test']],
    ] as const) {
      const res = await r(alias);
      assert.equal(res.kind, 'local', alias);
      if (res.kind === 'local') assert.deepEqual([...res.accountIds].sort(), expected.map((a) => ids[a]).sort(), alias);
    }
    const carol = await r('team@ours.test');
    if (carol.kind === 'local')
      assert.equal(carol.accounts.find((a) => a.address === 'carol@ours.test')?.quotaBytes, 1000);
  });

  test('catch-all per domain; no catch-all means unknown user', async () => {
    const res = await r('anything@catch.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['dave@catch.test']]);
    assert.equal((await r('nobody@ours.test')).kind, 'unknown-user');
  });

  test('remote alias targets are reported apart', async () => {
    const res = await r('ext@ours.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') {
      assert.deepEqual(res.accountIds, []);
      assert.deepEqual(res.remote, ['someone@elsewhere.test']);
    }
  });

  test('forwarded (remote) targets count toward the 8-level and 1000-address limits like local ones', async () => {
    const d = storage.directory;
    // fwd0 -> fwd1 -> ... -> fwd8 -> far@elsewhere.test: the remote target is 8 levels below fwd1, 9 below fwd0
    for (let i = 0; i < MAX_ALIAS_DEPTH; i++) await d.addAlias(`fwd${i}@ours.test`, [`fwd${i + 1}@ours.test`]);
    await d.addAlias(`fwd${MAX_ALIAS_DEPTH}@ours.test`, ['far@elsewhere.test']);
    const within = await r('fwd1@ours.test');
    assert.deepEqual(within.kind === 'local' && within.remote, ['far@elsewhere.test']);
    assert.equal((await r('fwd0@ours.test')).kind, 'unknown-user');
    await d.addAlias(
      'crowd@ours.test',
      Array.from({ length: 1200 }, (_, i) => `p${i}@elsewhere.test`),
    );
    const crowd = await r('crowd@ours.test');
    // the recipient itself is the first of the 1000 addresses one recipient may reach
    assert.equal(crowd.kind === 'local' && crowd.remote.length, 999);
  });

  test('never an open relay: domains we do not serve and relay tricks', async () => {
    for (const a of [
      'user@elsewhere.test',
      'user@sub.ours.test',
      'user@[127.0.0.1]',
      'user@[IPv6:::1]',
      'ours.test!user@elsewhere.test',
      'user%ours.test@elsewhere.test',
      'user@localhost',
    ]) {
      assert.equal((await r(a)).kind, 'not-local', a);
    }
    // tricks inside our own domain never leave it: they are unknown local parts (or the catch-all's)
    for (const a of [
      'user%elsewhere.test@ours.test',
      'elsewhere.test!user@ours.test',
      '"user@elsewhere.test"@ours.test',
      '"bob@ours.test"@ours.test',
      '"bob ours.test"@ours.test',
    ]) {
      assert.equal((await r(a)).kind, 'unknown-user', a);
    }
    const viaCatchAll = await r('user%elsewhere.test@catch.test');
    assert.equal(viaCatchAll.kind, 'local');
    assert.equal((await r('no-at-sign')).kind, 'invalid');
  });

  test('a quoted local part that needs no quotes is the unquoted address (RFC 5321 §4.1.2)', async () => {
    for (const a of ['"bob"@ours.test', '"BOB"@Ours.Test', '"bob+tag"@ours.test']) {
      const res = await r(a);
      assert.equal(res.kind, 'local', a);
      if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['bob@ours.test']], a);
    }
    // quoting never turns into routing: the quoted '@' stays inside our domain, even with a catch-all
    for (const a of ['"dave@elsewhere.test"@catch.test', '"a@b"@catch.test']) {
      assert.equal((await r(a)).kind, 'unknown-user', a);
    }
  });

  test('the postmaster alias wins; postmaster@ a catch-all domain goes to the catch-all', async () => {
    for (const a of ['postmaster@ours.test', 'PostMaster@OURS.test', 'postmaster+x@ours.test']) {
      const res = await r(a);
      assert.equal(res.kind, 'local', a);
      if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['pm@ours.test']], a);
    }
    const res = await r('postmaster@catch.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['dave@catch.test']]);
  });

  test('alias loops are cut at delivery time: a pure loop is unknown, a loop with an exit delivers once', async () => {
    assert.equal((await r('pure1@ours.test')).kind, 'unknown-user');
    const res = await r('loop2@ours.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['bob@ours.test']]);
  });

  test(`alias chains are followed ${MAX_ALIAS_DEPTH} levels deep, no further`, async () => {
    const reached = await r('chain1@ours.test');
    assert.equal(reached.kind, 'local');
    if (reached.kind === 'local') assert.deepEqual(reached.accountIds, [ids['carol@ours.test']]);
    assert.equal((await r('chain0@ours.test')).kind, 'unknown-user');
  });

  test('an address reached both deep and shallow is expanded from the shallow side, whatever the order', async () => {
    const res = await r('diamond@ours.test');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['carol@ours.test']]);
  });
});

describe('postmaster is always deliverable (RFC 5321 §4.5.1, §4.1.1.3)', () => {
  let hash: string;
  /** Adds accounts one after the other, each with its own creation time. */
  const addAccounts = async (addresses: readonly string[]) => {
    for (const address of addresses) {
      ids[address] = (await storage.directory.addAccount({ address, passwordHash: hash })).accountId;
      await sleep(3);
    }
  };

  before(async () => {
    hash = await hashPassword('pw');
    const d = storage.directory;
    // added after the first describe's domains: ours.test stays the first domain of this directory
    await sleep(3);
    await d.addDomain('plain.test');
    await addAccounts(['zed@plain.test', 'amy@plain.test']); // first by creation, not by name
    await d.addDomain('named.test', { postmaster: 'Boss@Named.Test' });
    await addAccounts(['first@named.test', 'boss@named.test']);
    await d.addDomain('other-pm.test', { postmaster: 'zed@plain.test' });
    await addAccounts(['someone@other-pm.test']);
    await d.addDomain('ghost.test', { postmaster: 'ghost@ghost.test' }); // named, never created
    await addAccounts(['real@ghost.test']);
    await d.addDomain('aliased.test', { postmaster: 'boss@aliased.test' });
    await addAccounts(['boss@aliased.test', 'ops@aliased.test']);
    await d.addAlias('postmaster@aliased.test', ['ops@aliased.test']);
    await d.addDomain('empty.test');
  });

  const delivered = async (recipient: string, hostname?: string) => {
    const res = await route(storage.directory, { recipient, hostname });
    assert.equal(res.kind, 'local', recipient);
    return res.kind === 'local' ? res.accountIds : [];
  };

  test('postmaster@ every domain: the named account, else the first account by creation', async () => {
    assert.deepEqual(await delivered('postmaster@plain.test'), [ids['zed@plain.test']]);
    assert.deepEqual(await delivered('POSTMASTER@Plain.Test'), [ids['zed@plain.test']]);
    assert.deepEqual(await delivered('postmaster@named.test'), [ids['boss@named.test']]);
    assert.deepEqual(await delivered('postmaster@other-pm.test'), [ids['zed@plain.test']]);
    assert.deepEqual(await delivered('postmaster@ghost.test'), [ids['real@ghost.test']]);
    assert.deepEqual(await delivered('postmaster@aliased.test'), [ids['ops@aliased.test']]); // the alias wins
    assert.equal((await storage.directory.getDomain('named.test'))?.postmaster, 'boss@named.test');
  });

  test('a domain with no account yet: a temporary failure, so the sender retries (never a 550)', async () => {
    await assert.rejects(route(storage.directory, { recipient: 'postmaster@empty.test' }), TemporaryError);
    assert.equal((await route(storage.directory, { recipient: 'nobody@empty.test' })).kind, 'unknown-user');
  });

  test("the bare postmaster: the host name's domain if we serve it, else the first domain added", async () => {
    assert.deepEqual(await delivered('postmaster', 'mx.named.test'), [ids['boss@named.test']]);
    assert.deepEqual(await delivered('postmaster', 'mx.provider.example'), [ids['pm@ours.test']]);
    assert.deepEqual(await delivered('postmaster'), [ids['pm@ours.test']]);
  });

  test('the bare postmaster of a gateway that serves no domain yet: a temporary failure', async () => {
    const bare = await freshStorage();
    await assert.rejects(route(bare.directory, { recipient: 'postmaster', hostname: 'mx.none.test' }), TemporaryError);
  });
});
