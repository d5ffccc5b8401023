import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hashPassword } from '../../lib/core/password.ts';
import { route } from '../../lib/pipeline/route.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { freshStorage } from '../support/storage.ts';

const storage: Storage = await freshStorage();

describe('route', () => {
  const ids: Record<string, string> = {};

  before(async () => {
    const d = storage.directory;
    await d.addDomain('ours.test');
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
      '"bob"@ours.test',
      '"user@elsewhere.test"@ours.test',
    ]) {
      assert.equal((await r(a)).kind, 'unknown-user', a);
    }
    const viaCatchAll = await r('user%elsewhere.test@catch.test');
    assert.equal(viaCatchAll.kind, 'local');
    assert.equal((await r('no-at-sign')).kind, 'invalid');
  });

  test('a bare postmaster (RFC 5321 §4.1.1.3) goes to postmaster@ our nearest domain', async () => {
    const res = await r('Postmaster');
    assert.equal(res.kind, 'local');
    if (res.kind === 'local') assert.deepEqual(res.accountIds, [ids['pm@ours.test']]);
    assert.equal((await route(storage.directory, { recipient: 'postmaster' })).kind, 'unknown-user');
  });
});
