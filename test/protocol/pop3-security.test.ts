/**
 * POP3 security and robustness through the whole gateway: no password before TLS unless allowed (RFC 2595),
 * login throttling per account-and-address and per address ([AUTH], then [SYS/TEMP], RFC 3206), and bad input that gets
 * -ERR, closes after too many errors, and never takes the server down.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { deliver, makeMessage, type PoplibValue, poplib, RawClient, retrieved, run, text } from './pop3-support.ts';

const strict = await startTestGateway({ env: { POSTERN_ALLOW_PLAINTEXT_AUTH: '0' } });
const open = await startTestGateway();
const cafile = join(mkdtempSync(join(tmpdir(), 'postern-pop3-')), 'ca.pem');
writeFileSync(cafile, strict.tls.cert);

async function newAccount(gw: TestGateway) {
  const user = `sec-${randomBytes(4).toString('hex')}@example.com`;
  const pass = `pw-${randomBytes(4).toString('hex')}`;
  const account = await gw.addAccount(user, pass);
  return { account, user, pass };
}

describe('POP3 without plaintext authentication (POSTERN_ALLOW_PLAINTEXT_AUTH=0)', () => {
  it('CAPA before TLS offers STLS but not USER or SASL (RFC 2595 §4, RFC 2449 §6)', async () => {
    const r = await poplib({ mode: 'plain', port: strict.port('pop3'), steps: [['capa']] });
    const caps = r.steps[0] as unknown as Record<string, unknown>;
    assert.ok('STLS' in caps);
    assert.ok(!('USER' in caps));
    assert.ok(!('SASL' in caps));
  });

  it('refuses USER/PASS and AUTH on the clear-text port with [AUTH]', async () => {
    const { user, pass } = await newAccount(strict);
    const r = await poplib({
      mode: 'plain',
      port: strict.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['auth_plain', user, pass], ['stat']],
    });
    assert.match(text(r.steps[0]), /^ERROR -ERR \[AUTH\] plaintext authentication is disabled/);
    assert.match(text(r.steps[1]), /^ERROR -ERR \[AUTH\] plaintext authentication is disabled/);
    assert.match(text(r.steps[2]), /^ERROR -ERR \[AUTH\] plaintext authentication is disabled/);
    assert.match(text(r.steps[3]), /^ERROR -ERR STAT is not allowed before login/);
    const curl = await run('curl', [
      '-s',
      '-S',
      '--max-time',
      '20',
      `pop3://127.0.0.1:${strict.port('pop3')}/`,
      '-u',
      `${user}:${pass}`,
    ]);
    assert.notEqual(curl.code, 0, 'curl cannot log in without TLS');
  });

  it('accepts the password after STLS (poplib stls(), curl --ssl-reqd) and on implicit TLS', async () => {
    const { account, user, pass } = await newAccount(strict);
    const m = await deliver(strict.storage, account.accountId, makeMessage('tls only', 5000));
    for (const mode of ['stls', 'ssl'] as const) {
      const r = await poplib({
        mode,
        port: strict.port(mode === 'ssl' ? 'pop3s' : 'pop3'),
        cafile,
        steps: [['user', user], ['pass_', pass], ['retr', 1], ['quit']],
      });
      assert.equal(r.exception, undefined, r.exception);
      const got = retrieved(r.steps[2]);
      assert.deepEqual(Buffer.concat(got.lines.flatMap((l) => [l, Buffer.from('\r\n')])), m.bytes, mode);
    }
    const curl = await run('curl', [
      '-s',
      '-S',
      '--max-time',
      '20',
      '--ssl-reqd',
      '--cacert',
      cafile,
      `pop3://127.0.0.1:${strict.port('pop3')}/1`,
      '-u',
      `${user}:${pass}`,
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.deepEqual(curl.stdout, m.bytes);
  });
});

describe('POP3 login throttling', () => {
  // A gateway of its own (fresh storage, so a fresh authenticator) with a short delay and low thresholds.
  const env = {
    POSTERN_AUTH_FAILURE_DELAY_MS: '200',
    POSTERN_AUTH_MAX_FAILURES_PAIR: '3',
    POSTERN_AUTH_MAX_FAILURES_IP: '8',
    POSTERN_AUTH_BACKOFF_MS: '600000', // long enough that no wait ends during the test
  };
  let gw: TestGateway;

  it('slows failed logins, answers [AUTH], then refuses the account from that address with [SYS/TEMP] even with the right password', async () => {
    gw = await startTestGateway({ env });
    const target = await newAccount(gw);
    const bystander = await newAccount(gw);
    const c = await RawClient.connect(gw.port('pop3'));
    await c.line();
    for (let i = 0; i < 3; i++) {
      await c.cmd(`USER ${target.user}`);
      const started = Date.now();
      assert.equal(await c.cmd('PASS wrong'), '-ERR [AUTH] invalid user name or password');
      assert.ok(Date.now() - started >= 190, 'failure was slowed');
    }
    await c.cmd(`USER ${target.user}`);
    assert.match(
      await c.cmd(`PASS ${target.pass}`),
      /^-ERR \[SYS\/TEMP\] too many failed logins; try again in 10 minute/,
    );
    c.destroy();
    // The same account from another address is not locked out.
    const elsewhere = await RawClient.connect(gw.port('pop3'), { localAddress: '127.0.0.2' });
    await elsewhere.line();
    await elsewhere.cmd(`USER ${target.user}`);
    assert.match(await elsewhere.cmd(`PASS ${target.pass}`), /^\+OK maildrop has 0/);
    await elsewhere.cmd('QUIT');
    elsewhere.destroy();
    // Another connection does not help; another account from the same IP is not affected.
    const r = await poplib({
      mode: 'plain',
      port: gw.port('pop3'),
      steps: [
        ['user', target.user],
        ['pass_', target.pass],
        ['user', bystander.user],
        ['pass_', bystander.pass],
        ['quit'],
      ],
    });
    assert.match(text(r.steps[1]), /^ERROR -ERR \[SYS\/TEMP\] too many failed logins/);
    assert.match(text(r.steps[3]), /^\+OK maildrop has 0/);
  });

  it('refuses every account from an IP past the per-IP threshold', async () => {
    // 3 failures so far from 127.0.0.1; 5 more on unknown accounts reach the IP threshold of 8.
    const c = await RawClient.connect(gw.port('pop3'));
    await c.line();
    for (let i = 0; i < 5; i++) {
      await c.cmd(`USER nobody${i}@example.com`);
      assert.equal(await c.cmd('PASS guess'), '-ERR [AUTH] invalid user name or password');
    }
    const fresh = await newAccount(gw);
    await c.cmd(`USER ${fresh.user}`);
    assert.match(await c.cmd(`PASS ${fresh.pass}`), /^-ERR \[SYS\/TEMP\] too many failed logins/);
    c.destroy();
  });
});

describe('POP3 bad input through the gateway', () => {
  it('answers -ERR with a clear text to every kind of bad input, then closes after too many errors', async () => {
    const { account, user, pass } = await newAccount(open);
    await deliver(open.storage, account.accountId, makeMessage('a', 400));
    const c = await RawClient.connect(open.port('pop3'));
    await c.line();
    assert.equal(await c.cmd(`USER ${'x'.repeat(400)}`), '-ERR line too long (at most 255 octets with CRLF)');
    assert.equal(await c.cmd('HELO there'), '-ERR unknown command HELO');
    assert.equal(await c.cmd('LIST'), '-ERR LIST is not allowed before login');
    await c.cmd(`USER ${user}`);
    assert.match(await c.cmd(`PASS ${pass}`), /^\+OK/);
    assert.equal(await c.cmd('RETR'), '-ERR wrong arguments; usage: RETR msg');
    assert.equal(await c.cmd('RETR 2'), '-ERR no such message: 2 (maildrop has 1)');
    assert.equal(await c.cmd('DELE 1'), '+OK message 1 deleted');
    assert.equal(await c.cmd('RETR 1'), '-ERR message 1 is already deleted');
    assert.equal(await c.cmd('TOP x 1'), '-ERR invalid message number "x"');
    assert.equal(await c.cmd('PASS again'), '-ERR PASS is not allowed in the TRANSACTION state');
    assert.equal(await c.cmd('STLS'), '-ERR STLS is not allowed in the TRANSACTION state');
    // The tenth error (POSTERN_POP3_MAX_ERRORS, default 10) closes the connection.
    assert.equal(await c.cmd('UIDL 0'), '-ERR invalid message number "0"; too many errors, closing connection');
    await c.waitClosed();
    // Closing on errors is not a QUIT: the DELE was not applied.
    const inbox = (await open.storage.mail.getMailbox(account.accountId, 'INBOX'))!;
    assert.equal((await open.storage.mail.listMessages(inbox)).length, 1);
  });

  it('answers thousands of pipelined commands in order (RFC 2449 §6.6)', async () => {
    const { account, user, pass } = await newAccount(open);
    await deliver(open.storage, account.accountId, makeMessage('p', 1000));
    const c = await RawClient.connect(open.port('pop3'));
    await c.line();
    const n = 3000;
    c.send(`USER ${user}\r\nPASS ${pass}\r\n${'NOOP\r\nLIST 1\r\n'.repeat(n)}QUIT\r\n`);
    await c.line();
    assert.match(await c.line(), /^\+OK maildrop/);
    for (let i = 0; i < n; i++) {
      assert.equal(await c.line(), '+OK');
      assert.match(await c.line(), /^\+OK 1 \d+$/);
    }
    assert.match(await c.line(), /^\+OK .*signing off/);
    await c.waitClosed();
  });

  it('survives binary garbage, abrupt disconnects mid-RETR, and keeps serving', async () => {
    const { account, user, pass } = await newAccount(open);
    await deliver(open.storage, account.accountId, makeMessage('big', 1_000_000));
    const g = await RawClient.connect(open.port('pop3'));
    await g.line();
    g.send(randomBytes(4096));
    g.send('\r\n\0\0\0\r\n\xff\xfe\r\n');
    g.destroy();
    for (let i = 0; i < 3; i++) {
      const c = await RawClient.connect(open.port('pop3s'), { tls: true });
      await c.line();
      await c.cmd(`USER ${user}`);
      let reply = await c.cmd(`PASS ${pass}`);
      for (let t = 0; t < 20 && reply.includes('IN-USE'); t++) {
        await new Promise((r) => setTimeout(r, 50));
        await c.cmd(`USER ${user}`);
        reply = await c.cmd(`PASS ${pass}`);
      }
      assert.match(reply, /^\+OK/);
      c.send('RETR 1\r\n');
      await c.line();
      c.destroy(); // in the middle of a 1 MB response
    }
    const r = await poplib({
      mode: 'plain',
      port: open.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['list'], ['quit']],
    });
    const list = r.steps[2] as PoplibValue[];
    assert.match(text(list[0]), /^\+OK 1 message/);
  });
});
