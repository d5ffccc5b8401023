/**
 * APPEND retried after a lost connection makes no second copy (issue #8; lib/imap/appendRetry.ts): a client
 * that sent the whole literal but lost the connection before it read the tagged OK cannot tell whether the
 * message was stored (RFC 9051 §6.3.12 gives it no way to ask), so the same APPEND again (same octets, flags
 * and date-time) within the record's life answers the first APPENDUID (RFC 4315 §3). Deliberate identical
 * APPENDs, whose answers the client read, make copies as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapClient } from '../protocol/imap-support.ts';
import { complianceServer } from './imap-compliance-support.ts';

const env = complianceServer();

const message = (subject: string) => `From: a@example.com\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`;

const appendUid = (status: string): string => {
  const m = /^\S+ OK \[APPENDUID (\d+ [\d:,]+)\]/.exec(status);
  assert.ok(m, status);
  return m[1];
};

async function count(c: ImapClient, box: string): Promise<number> {
  const r = await c.cmd(`STATUS ${box} (MESSAGES)`);
  const m = /MESSAGES (\d+)/.exec(r.untagged.join(' '));
  assert.ok(m, r.untagged.join('\n'));
  return Number(m[1]);
}

/** Sends an APPEND with a synchronizing literal and closes the connection before the answer is read. */
async function appendAndVanish(args: string, body: string): Promise<void> {
  const c = await env.login();
  c.send(`lost APPEND ${args} {${Buffer.byteLength(body)}}\r\n`);
  assert.match(await c.line(), /^\+/);
  c.send(`${body}\r\n`);
  c.destroy();
}

/** Waits until the mailbox holds n messages (the lost APPEND commits on the server after the client left). */
async function waitFor(c: ImapClient, box: string, n: number): Promise<void> {
  for (let i = 0; i < 100 && (await count(c, box)) < n; i++) await sleep(50);
  assert.equal(await count(c, box), n);
}

/** A new mailbox with an APPEND whose answer was lost (`extra`: its flags and date), and a session to retry from. */
async function afterLostAppend(box: string, extra: string, body: string, committed = true): Promise<ImapClient> {
  await env.storage.mail.createMailbox(env.account.accountId, box);
  await appendAndVanish(extra ? `${box} ${extra}` : box, body);
  const b = await env.login();
  if (committed) await waitFor(b, box, 1);
  return b;
}

describe('APPEND retried after the answer was lost', () => {
  it('the connection dies after the literal; the same APPEND on a new connection gives the first UID, one copy', async () => {
    const body = message('retry one');
    const b = await afterLostAppend('Retry1', '(\\Seen) "02-Dec-2026 10:00:00 +0000"', body);
    const first = (await b.cmd('EXAMINE Retry1')).untagged.join(' ');
    const retry = await b.cmd(`APPEND Retry1 (\\Seen) "02-Dec-2026 10:00:00 +0000" {${body.length}+}\r\n${body}`);
    const [, uid] = appendUid(retry.status).split(' ');
    assert.match(first, /UIDNEXT 2\b/);
    assert.equal(uid, '1');
    assert.equal(await count(b, 'Retry1'), 1);
    b.destroy();
  });

  it('a retry racing the lost APPEND still leaves one copy', async () => {
    const body = message('retry two');
    const b = await afterLostAppend('Retry2', '', body, false);
    const retry = await b.cmd(`APPEND Retry2 {${body.length}+}\r\n${body}`);
    appendUid(retry.status);
    await sleep(300); // the lost one commits by now, as the first or as the duplicate
    assert.equal(await count(b, 'Retry2'), 1);
    b.destroy();
  });

  it('two identical APPENDs in one session give two copies, and so does one after the retry was answered', async () => {
    await env.storage.mail.createMailbox(env.account.accountId, 'Twice');
    const body = message('twice');
    const a = await env.login();
    const one = appendUid((await a.cmd(`APPEND Twice {${body.length}+}\r\n${body}`)).status);
    const two = appendUid((await a.cmd(`APPEND Twice {${body.length}+}\r\n${body}`)).status);
    assert.notEqual(one, two);
    // pipelined, both in one write: the second arrives after the first was answered
    a.send(`p1 APPEND Twice {${body.length}+}\r\n${body}\r\np2 APPEND Twice {${body.length}+}\r\n${body}\r\n`);
    const p1 = appendUid((await a.until('p1')).status);
    const p2 = appendUid((await a.until('p2')).status);
    assert.notEqual(p1, p2);
    assert.equal(await count(a, 'Twice'), 4);
    a.destroy();

    const b = await afterLostAppend('Retry3', '', body);
    const retried = appendUid((await b.cmd(`APPEND Retry3 {${body.length}+}\r\n${body}`)).status);
    // the retry's answer was read (this NOOP says so): the same APPEND again is meant
    await b.cmd('NOOP');
    const again = appendUid((await b.cmd(`APPEND Retry3 {${body.length}+}\r\n${body}`)).status);
    assert.notEqual(retried, again);
    assert.equal(await count(b, 'Retry3'), 2);
    b.destroy();
  });

  it('only the same octets, flags and date-time are a retry; a MULTIAPPEND retried gives its UIDs again (RFC 3502)', async () => {
    const body = message('retry four');
    const b = await afterLostAppend('Retry4', '(\\Flagged)', body);
    appendUid((await b.cmd(`APPEND Retry4 {${body.length}+}\r\n${body}`)).status);
    appendUid(
      (await b.cmd(`APPEND Retry4 (\\Flagged) "01-Jan-2020 00:00:00 +0000" {${body.length}+}\r\n${body}`)).status,
    );
    const other = message('retry four, edited');
    appendUid((await b.cmd(`APPEND Retry4 (\\Flagged) {${other.length}+}\r\n${other}`)).status);
    assert.equal(await count(b, 'Retry4'), 4);
    b.destroy();

    await env.storage.mail.createMailbox(env.account.accountId, 'Retry5');
    const m1 = message('multi one');
    const m2 = message('multi two');
    const multi = `Retry5 {${m1.length}+}\r\n${m1} (\\Seen) {${m2.length}+}\r\n${m2}`;
    const c = await env.login();
    c.send(`lost APPEND ${multi}\r\n`);
    c.destroy();
    const d = await env.login();
    await waitFor(d, 'Retry5', 2);
    assert.equal(appendUid((await d.cmd(`APPEND ${multi}`)).status).split(' ')[1], '1:2');
    assert.equal(await count(d, 'Retry5'), 2);
    d.destroy();
  });
});
