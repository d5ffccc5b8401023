/**
 * POP3 against clients nobody here wrote: Python's poplib (plain, STLS, implicit TLS) and curl (pop3://,
 * pop3s://, STLS), over real TCP to a whole in-process gateway, with messages appended through the storage
 * layer as delivery does. Byte-for-byte equality, LIST sizes, TOP, UIDL stability, deletion only at QUIT.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Account } from '../../lib/core/ports.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  type Delivered,
  deliver,
  makeMessage,
  type PoplibValue,
  poplib,
  RawClient,
  retrieved,
  run,
  text,
  unstuff,
} from './pop3-support.ts';

const CRLF = Buffer.from('\r\n');

const tg: TestGateway = await startTestGateway();
const cafile = join(mkdtempSync(join(tmpdir(), 'postern-pop3-')), 'ca.pem');
writeFileSync(cafile, tg.tls.cert);

let seq = 0;
async function newAccount(): Promise<{ account: Account; user: string; pass: string }> {
  const user = `user${++seq}-${randomBytes(3).toString('hex')}@example.com`;
  const pass = `pw ${randomBytes(4).toString('hex')}`;
  return { account: await tg.addAccount(user, pass), user, pass };
}

/** Lines of 8-bit bytes (every value except CR and LF), CRLF-terminated. */
function binaryMessage(): Buffer {
  const lines: Buffer[] = [Buffer.from('Subject: binary\r\nContent-Transfer-Encoding: 8bit\r\n\r\n')];
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 0x0d && i !== 0x0a));
  for (let i = 0; i < all.length; i += 60) lines.push(all.subarray(i, i + 60), CRLF);
  lines.push(Buffer.from('.\xff\xfe leading dot then 8-bit\r\n', 'latin1'));
  return Buffer.concat(lines);
}

/** The set every byte test uses: dot lines, a header prefix, no final CRLF, 8-bit, and 1 MB. */
async function deliverSet(accountId: string): Promise<Delivered[]> {
  const out: Delivered[] = [];
  out.push(
    await deliver(
      tg.storage,
      accountId,
      Buffer.from('From: a@example.org\r\nSubject: dots\r\n\r\n.\r\n..\r\n.leading\r\nnormal\r\n. \r\n'),
      'Return-Path: <a@example.org>\r\nDelivered-To: x@example.com\r\n',
    ),
  );
  out.push(
    await deliver(tg.storage, accountId, Buffer.from('Subject: no final line end\r\n\r\nlast line without CRLF')),
  );
  out.push(await deliver(tg.storage, accountId, binaryMessage(), 'Return-Path: <b@example.org>\r\n'));
  out.push(await deliver(tg.storage, accountId, makeMessage('one megabyte', 1_000_000)));
  return out;
}

/** What poplib's lines mean as bytes: CRLF after every line (the framing CRLF of an unterminated message included). */
const joined = (lines: Buffer[]) => Buffer.concat(lines.flatMap((l) => [l, CRLF]));
const withFinalCrlf = (b: Buffer) => (b.subarray(-2).equals(CRLF) ? b : Buffer.concat([b, CRLF]));

async function storedUids(accountId: string): Promise<number[]> {
  const inbox = (await tg.storage.mail.getMailbox(accountId, 'INBOX'))!;
  return (await tg.storage.mail.listMessages(inbox)).map((m) => m.uid);
}

describe('POP3 with Python poplib', () => {
  for (const mode of ['plain', 'stls', 'ssl'] as const) {
    it(`${mode}: RETR is byte-for-byte what was delivered and LIST sizes are the RETR octets (RFC 1939 §5)`, async () => {
      const { account, user, pass } = await newAccount();
      const msgs = await deliverSet(account.accountId);
      const port = tg.port(mode === 'ssl' ? 'pop3s' : 'pop3');
      const r = await poplib({
        mode,
        port,
        cafile,
        steps: [['user', user], ['pass_', pass], ['stat'], ['list'], ...msgs.map((_, i) => ['retr', i + 1]), ['quit']],
      });
      assert.equal(r.exception, undefined, r.exception);
      assert.match(text(r.welcome!), /^\+OK /);
      if (mode === 'stls') assert.match(text(r.stls!), /^\+OK/);
      const [userR, passR, stat, list] = r.steps;
      assert.match(text(userR), /^\+OK/);
      assert.match(text(passR), /^\+OK/);
      assert.deepEqual(stat, [msgs.length, msgs.reduce((s, m) => s + m.bytes.length, 0)]);
      const sizes = ((list as PoplibValue[])[1] as PoplibValue[]).map((l) => text(l));
      assert.deepEqual(
        sizes,
        msgs.map((m, i) => `${i + 1} ${m.bytes.length}`),
      );
      msgs.forEach((m, i) => {
        const got = retrieved(r.steps[4 + i]);
        assert.equal(got.status, `+OK ${m.bytes.length} octets`);
        assert.deepEqual(joined(got.lines), withFinalCrlf(m.bytes), `message ${i + 1} bytes`);
        // poplib counts the octets it received (un-stuffed): the LIST size, plus the CRLF that ends the
        // last line of a message delivered without one (RFC 1939 §3: the terminator is on a line of its own).
        assert.equal(got.octets, withFinalCrlf(m.bytes).length);
        if (m.bytes.subarray(-2).equals(CRLF)) assert.equal(got.octets, m.bytes.length);
      });
    });
  }

  it('TOP msg n returns the header, the blank line and n body lines (RFC 1939 §7)', async () => {
    const { account, user, pass } = await newAccount();
    await deliver(
      tg.storage,
      account.accountId,
      Buffer.from('Subject: t\r\nX: y\r\n\r\nb1\r\n.b2\r\nb3\r\n'),
      'Return-Path: <r@x.org>\r\n',
    );
    const r = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['top', 1, 0], ['top', 1, 2], ['quit']],
    });
    const top0 = retrieved(r.steps[2]);
    assert.deepEqual(top0.lines.map(String), ['Return-Path: <r@x.org>', 'Subject: t', 'X: y', '']);
    const top2 = retrieved(r.steps[3]);
    assert.deepEqual(top2.lines.map(String), ['Return-Path: <r@x.org>', 'Subject: t', 'X: y', '', 'b1', '.b2']);
  });

  it('UIDL is stable across sessions and is the INBOX uidValidity.uid IMAP shows (RFC 1939 §7)', async () => {
    const { account, user, pass } = await newAccount();
    const msgs = [];
    for (let i = 0; i < 3; i++) msgs.push(await deliver(tg.storage, account.accountId, makeMessage(`m${i}`, 500)));
    const uidl = async (extra: (string | number)[][] = []) => {
      const r = await poplib({
        mode: 'plain',
        port: tg.port('pop3'),
        steps: [['user', user], ['pass_', pass], ['uidl'], ...extra, ['quit']],
      });
      return ((r.steps[2] as PoplibValue[])[1] as PoplibValue[]).map(text);
    };
    const first = await uidl();
    assert.deepEqual(
      first,
      msgs.map((m, i) => `${i + 1} ${m.uidValidity}.${m.uid}`),
    );
    for (const line of first) assert.match(line.split(' ')[1], /^[\x21-\x7e]{1,70}$/);
    assert.deepEqual(await uidl(), first);
    // Delete the first; the others keep their unique-ids though their numbers change.
    await uidl([['dele', 1]]);
    assert.deepEqual(await uidl(), [`1 ${first[1].split(' ')[1]}`, `2 ${first[2].split(' ')[1]}`]);
  });

  it('deletes only at QUIT; a dropped connection deletes nothing (RFC 1939 §6)', async () => {
    const { account, user, pass } = await newAccount();
    const a = await deliver(tg.storage, account.accountId, makeMessage('a', 300));
    const b = await deliver(tg.storage, account.accountId, makeMessage('b', 300));

    // Dropped connection after DELE: nothing removed.
    const dropped = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['dele', 1], ['dele', 2], ['close']],
    });
    assert.match(text(dropped.steps[2]), /^\+OK/);
    await waitFor(async () => (await freeToLogin(user, pass)) === true);
    assert.deepEqual(await storedUids(account.accountId), [a.uid, b.uid]);

    // DELE with the session still open: still stored; after QUIT: gone.
    const c = await RawClient.connect(tg.port('pop3'));
    await c.line();
    await c.cmd(`USER ${user}`);
    assert.match(await c.cmd(`PASS ${pass}`), /^\+OK/);
    assert.equal(await c.cmd('DELE 1'), '+OK message 1 deleted');
    assert.deepEqual(await storedUids(account.accountId), [a.uid, b.uid]);
    assert.match(await c.cmd('QUIT'), /^\+OK .*signing off/);
    await c.waitClosed();
    assert.deepEqual(await storedUids(account.accountId), [b.uid]);
  });

  it('download-and-keep leaves every message; download-and-delete empties the maildrop', async () => {
    const { account, user, pass } = await newAccount();
    const msgs = [];
    for (let i = 0; i < 4; i++) msgs.push(await deliver(tg.storage, account.accountId, makeMessage(`k${i}`, 2000)));
    const retrAll = msgs.map((_, i) => ['retr', i + 1]);
    const keep = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', user], ['pass_', pass], ...retrAll, ['quit']],
    });
    for (const [i, m] of msgs.entries()) assert.deepEqual(joined(retrieved(keep.steps[2 + i]).lines), m.bytes);
    assert.equal((await storedUids(account.accountId)).length, 4);

    const del = await poplib({
      mode: 'ssl',
      port: tg.port('pop3s'),
      steps: [
        ['user', user],
        ['pass_', pass],
        ...msgs.flatMap((_, i) => [
          ['retr', i + 1],
          ['dele', i + 1],
        ]),
        ['quit'],
      ],
    });
    for (const [i, m] of msgs.entries()) assert.deepEqual(joined(retrieved(del.steps[2 + 2 * i]).lines), m.bytes);
    assert.match(text(del.steps.at(-1)!), /^\+OK/);
    assert.deepEqual(await storedUids(account.accountId), []);
    const after = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', user], ['pass_', pass], ['stat'], ['quit']],
    });
    assert.deepEqual(after.steps[2], [0, 0]);
  });

  it('an account only ever sees its own maildrop', async () => {
    const alice = await newAccount();
    const bob = await newAccount();
    const am = await deliver(tg.storage, alice.account.accountId, Buffer.from('Subject: for alice\r\n\r\nsecret\r\n'));
    await deliver(tg.storage, bob.account.accountId, Buffer.from('Subject: for bob\r\n\r\nhi\r\n'));
    const r = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [
        ['user', alice.user],
        ['pass_', bob.pass],
        ['user', bob.user],
        ['pass_', bob.pass],
        ['stat'],
        ['retr', 1],
        ['quit'],
      ],
    });
    assert.match(text(r.steps[1]), /^ERROR -ERR \[AUTH\]/);
    assert.deepEqual(r.steps[4], [1, 'Subject: for bob\r\n\r\nhi\r\n'.length]);
    assert.deepEqual(retrieved(r.steps[5]).lines.map(String), ['Subject: for bob', '', 'hi']);
    // AUTH PLAIN with Bob's credentials and Alice as authorization identity is refused.
    const token = Buffer.from(`${alice.user}\0${bob.user}\0${bob.pass}`).toString('base64');
    const r2 = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['raw', `AUTH PLAIN ${token}`], ['stat']],
    });
    assert.match(text(r2.steps[0]), /^ERROR -ERR \[AUTH\] authorization identity/);
    assert.deepEqual(await storedUids(alice.account.accountId), [am.uid]);
  });

  it('logs in with AUTH PLAIN and an initial response (RFC 5034 §4)', async () => {
    const { account, user, pass } = await newAccount();
    await deliver(tg.storage, account.accountId, makeMessage('x', 200));
    const r = await poplib({
      mode: 'stls',
      port: tg.port('pop3'),
      cafile,
      steps: [['auth_plain', user, pass], ['stat'], ['quit']],
    });
    assert.match(text(r.steps[0]), /^\+OK maildrop has 1/);
  });

  it('answers CAPA with the RFC 2449 capabilities', async () => {
    const r = await poplib({ mode: 'plain', port: tg.port('pop3'), steps: [['capa']] });
    const caps = r.steps[0] as unknown as Record<string, unknown>;
    for (const c of ['TOP', 'UIDL', 'USER', 'SASL', 'RESP-CODES', 'PIPELINING', 'STLS', 'IMPLEMENTATION'])
      assert.ok(c in caps, c);
    assert.deepEqual(caps.SASL, ['PLAIN']);
  });
});

describe('POP3 with curl', () => {
  const curl = (args: string[]) => run('curl', ['-s', '-S', '--max-time', '30', ...args]);

  it('pop3:// retrieves each message byte for byte (AUTH PLAIN with continuation)', async () => {
    const { account, user, pass } = await newAccount();
    const msgs = await deliverSet(account.accountId);
    for (const [i, m] of msgs.entries()) {
      const r = await curl([`pop3://127.0.0.1:${tg.port('pop3')}/${i + 1}`, '-u', `${user}:${pass}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout, withFinalCrlf(m.bytes), `message ${i + 1}`);
    }
  });

  it('pop3s:// and STLS (--ssl-reqd) retrieve byte for byte, with an initial response (--sasl-ir)', async () => {
    const { account, user, pass } = await newAccount();
    const [m] = await deliverSet(account.accountId);
    const s = await curl([`pop3s://127.0.0.1:${tg.port('pop3s')}/1`, '-u', `${user}:${pass}`, '--cacert', cafile]);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.stdout, m.bytes);
    const insecure = await curl([
      `pop3s://127.0.0.1:${tg.port('pop3s')}/1`,
      '-u',
      `${user}:${pass}`,
      '--insecure',
      '--sasl-ir',
    ]);
    assert.deepEqual(insecure.stdout, m.bytes);
    const stls = await curl([
      `pop3://127.0.0.1:${tg.port('pop3')}/1`,
      '-u',
      `${user}:${pass}`,
      '--ssl-reqd',
      '--insecure',
    ]);
    assert.equal(stls.code, 0, stls.stderr);
    assert.deepEqual(stls.stdout, m.bytes);
  });

  it('LIST sizes equal the bytes curl receives for each message; TOP and UIDL by custom request', async () => {
    const { account, user, pass } = await newAccount();
    const msgs = await deliverSet(account.accountId);
    const base = `pop3://127.0.0.1:${tg.port('pop3')}/`;
    const list = await curl([base, '-u', `${user}:${pass}`]);
    assert.equal(list.code, 0, list.stderr);
    const sizes = list.stdout
      .toString()
      .trim()
      .split('\r\n')
      .map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(
      sizes,
      msgs.map((m) => m.bytes.length),
    );
    for (const [i, size] of sizes.entries()) {
      const r = await curl([`${base}${i + 1}`, '-u', `${user}:${pass}`]);
      // Exact for every message that ends with CRLF; the one without gets the framing CRLF (RFC 1939 §3).
      assert.equal(r.stdout.length, msgs[i].bytes.subarray(-2).equals(CRLF) ? size : size + 2);
    }
    const top = await curl([base, '-u', `${user}:${pass}`, '-X', 'TOP 1 0']);
    assert.equal(
      top.stdout.toString(),
      'Return-Path: <a@example.org>\r\nDelivered-To: x@example.com\r\nFrom: a@example.org\r\nSubject: dots\r\n\r\n',
    );
    const uidl = await curl([base, '-u', `${user}:${pass}`, '-X', 'UIDL']);
    assert.deepEqual(
      uidl.stdout.toString().trim().split('\r\n'),
      msgs.map((m, i) => `${i + 1} ${m.uidValidity}.${m.uid}`),
    );
  });

  it('refuses a wrong password', async () => {
    const { account, user } = await newAccount();
    await deliver(tg.storage, account.accountId, makeMessage('x', 100));
    const r = await curl([`pop3://127.0.0.1:${tg.port('pop3')}/1`, '-u', `${user}:wrong`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /denied|Login|auth/i);
  });
});

describe('POP3 raw bytes through the whole gateway', () => {
  it('sends the dot-stuffed bytes of RETR exactly, including a message with bare LF and every byte value', async () => {
    const { account, user, pass } = await newAccount();
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const blob = Buffer.concat([Buffer.from('Subject: raw\r\n\r\n'), every, Buffer.from('\r\n.x\n.y\r\nend')]);
    const m = await deliver(tg.storage, account.accountId, blob, 'Return-Path: <z@example.org>\r\n');
    const c = await RawClient.connect(tg.port('pop3'));
    await c.line();
    c.send(`USER ${user}\r\nPASS ${pass}\r\nLIST 1\r\nRETR 1\r\n`);
    await c.line();
    await c.line();
    assert.equal(await c.line(), `+OK 1 ${m.bytes.length}`);
    const r = await c.multi();
    assert.equal(r.status, `+OK ${m.bytes.length} octets`);
    assert.deepEqual(unstuff(r.body), Buffer.concat([m.bytes, CRLF]));
    c.destroy();
  });
});

// ---------------------------------------------------------------- helpers

async function freeToLogin(user: string, pass: string): Promise<boolean> {
  const r = await poplib({ mode: 'plain', port: tg.port('pop3'), steps: [['user', user], ['pass_', pass], ['quit']] });
  return text(r.steps[1]).startsWith('+OK');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
