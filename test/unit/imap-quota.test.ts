/**
 * QUOTA (RFC 9208) over a real socket with real storage: one quota root "" per account with the STORAGE
 * resource in KiB (§5.1) from the account's quota and its usage; SETQUOTA refused (§4.1.3); APPEND and
 * COPY past the quota answer NO [OVERQUOTA] (§4.3.1) and store nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliverTo } from '../protocol/imap-support.ts';
import { type MailboxServer, mailboxServer } from './imap-mailbox-support.ts';

let server: MailboxServer;
before(async () => {
  server = await mailboxServer();
});
after(() => server.close());

const QUOTA_BYTES = 4096;
const body = (octets: number) => Buffer.from(`Subject: q\r\n\r\n${'x'.repeat(octets - 18)}\r\n`);

describe('QUOTA (RFC 9208)', () => {
  it('GETQUOTAROOT and GETQUOTA tell STORAGE usage and limit in KiB; unknown roots and mailboxes are NO (§4.1.1, §4.1.2)', async () => {
    const account = await server.addAccount('quota', { quotaBytes: QUOTA_BYTES });
    await deliverTo(server.storage, account.accountId, body(3000));
    const c = await server.login(account);
    const root = await c.cmd('GETQUOTAROOT INBOX');
    // 3000 octets are 3 KiB used (rounded up), of 4
    assert.deepEqual(root.untagged, ['* QUOTAROOT INBOX ""', '* QUOTA "" (STORAGE 3 4)']);
    assert.match(root.status, /^a2 OK /);
    assert.deepEqual((await c.cmd('GETQUOTA ""')).untagged, ['* QUOTA "" (STORAGE 3 4)']);
    assert.match((await c.cmd('GETQUOTA "user.other"')).status, /^a4 NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('GETQUOTAROOT Nowhere')).status, /^a5 NO \[NONEXISTENT\]/);
    // §4.1.3: a server may refuse SETQUOTA; the limit stays the administrator's
    const set = await c.cmd('SETQUOTA "" (STORAGE 100000)');
    assert.deepEqual(set.untagged, []);
    assert.match(set.status, /^a6 NO \[NOPERM\]/);
    assert.deepEqual((await c.cmd('GETQUOTA ""')).untagged, ['* QUOTA "" (STORAGE 3 4)']);
    assert.match((await c.cmd('SETQUOTA "user.other" (STORAGE 1)')).status, /^a8 NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('SETQUOTA "" (STORAGE')).status, /^a9 BAD /);
    c.destroy();
  });

  it('an account without a limit has no quota root (§4.1.2)', async () => {
    const account = await server.addAccount('unlimited');
    const c = await server.login(account);
    const root = await c.cmd('GETQUOTAROOT INBOX');
    assert.deepEqual(root.untagged, ['* QUOTAROOT INBOX']);
    assert.match(root.status, /^a2 OK /);
    assert.match((await c.cmd('GETQUOTA ""')).status, /^a3 NO \[NONEXISTENT\]/);
    c.destroy();
  });

  it('APPEND and COPY past the quota are NO [OVERQUOTA] and store nothing; MOVE and EXPUNGE are not refused (§4.3.1)', async () => {
    const account = await server.addAccount('full', { quotaBytes: QUOTA_BYTES });
    await deliverTo(server.storage, account.accountId, body(3000));
    await server.storage.mail.createMailbox(account.accountId, 'Trash');
    const c = await server.login(account);
    const message = body(2000);
    c.send(`p1 APPEND INBOX {${message.length}+}\r\n`);
    c.send(Buffer.concat([message, Buffer.from('\r\n')]));
    assert.match((await c.until('p1')).status, /^p1 NO \[OVERQUOTA\]/);
    assert.deepEqual((await c.cmd('STATUS INBOX (MESSAGES)')).untagged, ['* STATUS INBOX (MESSAGES 1)']);
    assert.match((await c.cmd('SELECT INBOX')).status, /OK/);
    assert.match((await c.cmd('COPY 1 Trash')).status, /^a\d+ NO \[OVERQUOTA\]/);
    assert.deepEqual((await c.cmd('STATUS Trash (MESSAGES)')).untagged, ['* STATUS Trash (MESSAGES 0)']);
    // moving inside the account uses no more storage
    assert.match((await c.cmd('MOVE 1 Trash')).status, /^a\d+ OK /);
    assert.deepEqual((await c.cmd('GETQUOTA ""')).untagged, ['* QUOTA "" (STORAGE 3 4)']);
    assert.match((await c.cmd('SELECT Trash')).status, /OK/);
    assert.match((await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)')).status, /OK/);
    assert.match((await c.cmd('EXPUNGE')).status, /OK/);
    assert.deepEqual((await c.cmd('GETQUOTA ""')).untagged, ['* QUOTA "" (STORAGE 0 4)']);
    // with the space freed the same APPEND goes in
    c.send(`p2 APPEND INBOX {${message.length}+}\r\n`);
    c.send(Buffer.concat([message, Buffer.from('\r\n')]));
    assert.match((await c.until('p2')).status, /^p2 OK /);
    c.destroy();
  });

  it('advertises QUOTA and QUOTA=RES-STORAGE only (no message-count limit exists, §5)', async () => {
    const account = await server.addAccount('quotacaps');
    const c = await server.login(account);
    const caps = (await c.cmd('CAPABILITY')).untagged[0].split(' ');
    assert.ok(caps.includes('QUOTA') && caps.includes('QUOTA=RES-STORAGE'));
    assert.deepEqual(
      caps.filter((cap) => cap.startsWith('QUOTA=')),
      ['QUOTA=RES-STORAGE'],
    );
    c.destroy();
  });

  it('imapflow getQuota reads the STORAGE usage and limit', async () => {
    const account = await server.addAccount('flowquota', { quotaBytes: QUOTA_BYTES });
    await deliverTo(server.storage, account.accountId, body(1500));
    const client = await server.imapflow(account);
    try {
      const quota = await client.getQuota('INBOX');
      assert.ok(quota);
      assert.deepEqual(quota.storage, { usage: 2048, limit: 4096, status: '50%' });
    } finally {
      await client.logout();
    }
  });
});
