/** Directory contract through the real AWS SDK against DynamoDB Local. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../lib/core/errors.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { freshStorage } from '../support/storage.ts';

let storage: Storage;
before(async () => {
  storage = await freshStorage();
});

test('domains: add (normalised), list, duplicate refused, invalid refused', async () => {
  const d = storage.directory;
  assert.equal((await d.addDomain('Example.COM')).domain, 'example.com');
  await assert.rejects(d.addDomain('example.com'), AlreadyExistsError);
  for (const bad of ['', 'nodot', 'a..b', '-x.com', 'x.com.', 'x y.com', '1.2.3.4']) {
    await assert.rejects(d.addDomain(bad), InvalidInputError, bad);
  }
  assert.equal((await d.addDomain('bücher.example')).domain, 'xn--bcher-kva.example');
  const names = (await d.listDomains()).map((x) => x.domain);
  assert.ok(names.includes('example.com') && names.includes('xn--bcher-kva.example'));
});

test('domains keep the postmaster they were added with (normalised); without one there is none', async () => {
  const d = storage.directory;
  const added = await d.addDomain('pm.example', { postmaster: 'Boss@PM.Example' });
  assert.equal(added.postmaster, 'boss@pm.example');
  assert.deepEqual(await d.getDomain('pm.example'), added);
  assert.deepEqual(
    (await d.listDomains()).find((x) => x.domain === 'pm.example'),
    added,
  );
  assert.equal('postmaster' in (await d.addDomain('no-pm.example')), false);
  assert.equal('postmaster' in ((await d.getDomain('no-pm.example')) ?? {}), false);
  await assert.rejects(d.addDomain('bad-pm.example', { postmaster: 'not an address' }), InvalidInputError);
  assert.equal(await d.getDomain('bad-pm.example'), undefined);
});

test('accounts: add needs the domain, address is unique across accounts and aliases', async () => {
  const d = storage.directory;
  await d.addDomain('acct.example');
  const alice = await d.addAccount({ address: 'Alice@Acct.Example', passwordHash: 'h1', quotaBytes: 1000 });
  assert.equal(alice.address, 'alice@acct.example');
  await assert.rejects(d.addAccount({ address: 'alice@acct.example', passwordHash: 'h2' }), AlreadyExistsError);
  await assert.rejects(d.addAccount({ address: 'bob@nowhere.example', passwordHash: 'h' }), NotFoundError);
  await assert.rejects(d.addAccount({ address: 'not an address', passwordHash: 'h' }), InvalidInputError);
  await assert.rejects(d.addAlias('alice@acct.example', ['x@y.example']), AlreadyExistsError);
  assert.equal((await d.getAccountByAddress('ALICE@acct.example'))?.accountId, alice.accountId);
  assert.equal((await d.getAccount(alice.accountId))?.passwordHash, 'h1');
  await d.setPasswordHash('alice@acct.example', 'h3');
  await d.setQuota('alice@acct.example', 5000);
  const updated = (await d.getAccount(alice.accountId))!;
  assert.deepEqual([updated.passwordHash, updated.quotaBytes], ['h3', 5000]);
  assert.deepEqual(
    (await d.listAccounts('acct.example')).map((a) => a.address),
    ['alice@acct.example'],
  );
});

test('aliases and catch-all; a domain with members cannot be removed', async () => {
  const d = storage.directory;
  await d.addDomain('alias.example');
  const bob = await d.addAccount({ address: 'bob@alias.example', passwordHash: 'h' });
  await d.addAlias('team@alias.example', ['bob@alias.example', 'carol@remote.example', 'BOB@alias.example']);
  await d.addAlias('@alias.example', ['bob@alias.example']);
  assert.deepEqual(await d.lookupAddress('team@alias.example'), {
    kind: 'alias',
    address: 'team@alias.example',
    targets: ['bob@alias.example', 'carol@remote.example'],
  });
  assert.deepEqual(await d.lookupAddress('bob@alias.example'), {
    kind: 'account',
    address: 'bob@alias.example',
    accountId: bob.accountId,
  });
  assert.equal((await d.lookupAddress('@alias.example'))?.kind, 'alias');
  assert.equal(await d.lookupAddress('nobody@alias.example'), undefined);
  assert.equal((await d.listAliases('alias.example')).length, 2);
  await assert.rejects(d.addAlias('empty@alias.example', []), InvalidInputError);
  await assert.rejects(d.removeDomain('alias.example'), InvalidInputError);
  await d.removeAlias('team@alias.example');
  await d.removeAlias('@alias.example');
  await assert.rejects(d.removeAlias('team@alias.example'), NotFoundError);
  await d.removeAccount('bob@alias.example');
  assert.equal(await d.getAccount(bob.accountId), undefined);
  await d.removeDomain('alias.example');
  assert.equal(await d.getDomain('alias.example'), undefined);
});
