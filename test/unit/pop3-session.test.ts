/**
 * The POP3 session state machine over a real loopback socket, with an in-memory backend: exact bytes on the
 * wire for every command, states, errors, STLS, AUTH PLAIN, and the UPDATE state's failure modes.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { loadConfig } from '../../lib/core/config.ts';
import { NotFoundError, TemporaryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account } from '../../lib/core/ports.ts';
import { LeaseLostError, type Maildrop, type Pop3Backend } from '../../lib/pop3/backend.ts';
import { Pop3Session, type Pop3SessionOptions } from '../../lib/pop3/session.ts';
import { RawClient, unstuff } from '../protocol/pop3-support.ts';
import { testTls } from '../support/gateway.ts';

interface FakeState {
  commits: number[][];
  releases: number;
  opens: number;
  inUse: boolean;
  commitError?: Error;
  openError?: (n: number) => Error | undefined;
  /** Fail the stream after this many bytes. */
  breakAfter?: number;
  logins: { username: string; password: string }[];
}

const account = (address: string): Account => ({
  accountId: `id-${address}`,
  address,
  domain: address.split('@')[1],
  passwordHash: '',
  quotaBytes: 0,
  createdAt: 0,
});

/** In-memory backend: users with passwords, one maildrop of the given messages, streamed in 7-byte chunks. */
function fakeBackend(messages: Buffer[], users: Record<string, string> = { 'alice@example.com': 'secret' }) {
  const state: FakeState = { commits: [], releases: 0, opens: 0, inUse: false, logins: [] };
  const backend: Pop3Backend = {
    async authenticate({ username, password }): Promise<AuthResult> {
      state.logins.push({ username, password });
      if (username === 'throttled@example.com') return { ok: false, reason: 'throttled', retryAfterMs: 120_000 };
      return users[username] === password ? { ok: true, account: account(username) } : { ok: false, reason: 'invalid' };
    },
    async openMaildrop(acct) {
      if (state.inUse) return { ok: false, reason: 'in-use' };
      state.opens++;
      const maildrop: Maildrop = {
        accountId: acct.accountId,
        messages: messages.map((m, i) => ({ number: i + 1, uid: 100 + i, size: m.length, uidl: `7.${100 + i}` })),
        leaseLost: false,
        async open(msg) {
          const e = state.openError?.(msg.number);
          if (e) throw e;
          const bytes = messages[msg.number - 1];
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
          const limit = state.breakAfter;
          return Readable.from(
            (async function* () {
              let sent = 0;
              for (const c of chunks) {
                if (limit !== undefined && sent >= limit) throw new Error('blob read broke');
                sent += c.length;
                yield c;
              }
            })(),
          );
        },
        async commit(numbers) {
          if (state.commitError) throw state.commitError;
          state.commits.push([...numbers].sort((a, b) => a - b));
          return { removed: numbers.length };
        },
        async release() {
          state.releases++;
        },
      };
      return { ok: true, maildrop };
    },
  };
  return { backend, state };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A POP3 server on an ephemeral port, one Pop3Session per connection. */
async function serve(
  backend: Pop3Backend,
  opts: Partial<Pop3SessionOptions> = {},
): Promise<{ port: number; done: Promise<void>[] }> {
  const tls = await testTls();
  const done: Promise<void>[] = [];
  let n = 0;
  const server = createServer((socket) => {
    const session = new Pop3Session(
      { socket, cid: `c${n++}`, remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      backend,
      {
        hostname: 'pop.test',
        allowPlaintextAuth: true,
        idleTimeoutMs: 60_000,
        maxErrors: 10,
        tls,
        ...opts,
      },
    );
    done.push(session.run());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, done };
}

async function loggedIn(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  assert.match(await c.line(), /^\+OK/);
  assert.match(await c.cmd('USER alice@example.com'), /^\+OK/);
  assert.match(await c.cmd('PASS secret'), /^\+OK/);
  return c;
}

const MSG1 = Buffer.from('Subject: one\r\n\r\n.starts with a dot\r\n..two dots\r\nend\r\n', 'latin1');
const MSG2 = Buffer.from('Subject: two\r\n\r\nno final line end', 'latin1');
const MSG3 = Buffer.from(
  'Subject: three\r\nX-Bin: \xff\xfe\x80\r\n\r\nbody \x00\x01 8-bit \xe9\r\n.\r\nafter\r\n',
  'latin1',
);

describe('POP3 session', () => {
  it('greets with +OK and no APOP timestamp (RFC 1939 §4; APOP not offered)', async () => {
    const { port } = await serve(fakeBackend([]).backend);
    const c = await RawClient.connect(port);
    const greeting = await c.line();
    assert.match(greeting, /^\+OK /);
    assert.doesNotMatch(greeting, /<.*@.*>/);
    assert.match(await c.cmd('APOP alice@example.com 0123456789abcdef0123456789abcdef'), /^-ERR unknown command APOP/);
    c.destroy();
  });

  it('answers pipelined commands in order (RFC 2449 §6.6 PIPELINING)', async () => {
    const { port } = await serve(fakeBackend([MSG1, MSG2]).backend);
    const c = await RawClient.connect(port);
    await c.line();
    c.send('USER alice@example.com\r\nPASS secret\r\nSTAT\r\nLIST 2\r\nUIDL 1\r\nNOOP\r\nRETR 2\r\nQUIT\r\n');
    assert.equal(await c.line(), '+OK send PASS');
    assert.match(await c.line(), /^\+OK maildrop has 2 message/);
    assert.equal(await c.line(), `+OK 2 ${MSG1.length + MSG2.length}`);
    assert.equal(await c.line(), `+OK 2 ${MSG2.length}`);
    assert.equal(await c.line(), '+OK 1 7.100');
    assert.equal(await c.line(), '+OK');
    const r = await c.multi();
    assert.equal(r.status, `+OK ${MSG2.length} octets`);
    assert.equal(unstuff(r.body).toString('latin1'), `${MSG2.toString('latin1')}\r\n`);
    assert.match(await c.line(), /^\+OK .*signing off/);
    await c.waitClosed();
  });

  it('sends RETR byte-exact with dot-stuffing, and LIST sizes equal to the octets before stuffing (RFC 1939 §3, §5)', async () => {
    const { port } = await serve(fakeBackend([MSG1, MSG2, MSG3]).backend);
    const c = await loggedIn(port);
    c.send('LIST\r\n');
    const list = await c.multi();
    assert.equal(list.status, `+OK 3 message(s) (${MSG1.length + MSG2.length + MSG3.length} octets)`);
    assert.equal(list.body.toString(), `1 ${MSG1.length}\r\n2 ${MSG2.length}\r\n3 ${MSG3.length}\r\n`);
    for (const [i, msg] of [MSG1, MSG3].entries()) {
      c.send(`RETR ${i === 0 ? 1 : 3}\r\n`);
      const r = await c.multi();
      assert.equal(r.status, `+OK ${msg.length} octets`);
      assert.deepEqual(unstuff(r.body), msg);
    }
    c.send('RETR 1\r\n');
    const raw = await c.multi();
    assert.equal(raw.body.toString('latin1'), 'Subject: one\r\n\r\n..starts with a dot\r\n...two dots\r\nend\r\n');
    c.destroy();
  });

  it('TOP sends the header, the blank line and n body lines (RFC 1939 §7)', async () => {
    const { port } = await serve(fakeBackend([MSG1, MSG3]).backend);
    const c = await loggedIn(port);
    c.send('TOP 1 0\r\n');
    let r = await c.multi();
    assert.match(r.status, /^\+OK/);
    assert.equal(r.body.toString('latin1'), 'Subject: one\r\n\r\n');
    c.send('TOP 1 2\r\n');
    r = await c.multi();
    assert.equal(unstuff(r.body).toString('latin1'), 'Subject: one\r\n\r\n.starts with a dot\r\n..two dots\r\n');
    c.send('TOP 2 100\r\n');
    r = await c.multi();
    assert.deepEqual(unstuff(r.body), MSG3);
    assert.match(await c.cmd('TOP 1'), /^-ERR wrong arguments; usage: TOP msg n/);
    assert.match(await c.cmd('TOP 1 -1'), /^-ERR invalid line count/);
    c.destroy();
  });

  it('UIDL lists unique-ids of printable characters (RFC 1939 §7)', async () => {
    const { port } = await serve(fakeBackend([MSG1, MSG2]).backend);
    const c = await loggedIn(port);
    c.send('UIDL\r\n');
    const r = await c.multi();
    assert.equal(r.body.toString(), '1 7.100\r\n2 7.101\r\n');
    for (const line of r.body.toString().trim().split('\r\n')) assert.match(line.split(' ')[1], /^[\x21-\x7e]{1,70}$/);
    c.destroy();
  });

  it('DELE only marks; RSET unmarks; deletions are committed at QUIT (RFC 1939 §5, §6)', async () => {
    const { backend, state } = fakeBackend([MSG1, MSG2, MSG3]);
    const { port } = await serve(backend);
    const c = await loggedIn(port);
    assert.equal(await c.cmd('DELE 2'), '+OK message 2 deleted');
    assert.equal(await c.cmd('STAT'), `+OK 2 ${MSG1.length + MSG3.length}`);
    assert.match(await c.cmd('RETR 2'), /^-ERR message 2 is already deleted/);
    assert.match(await c.cmd('DELE 2'), /^-ERR message 2 is already deleted/);
    assert.match(await c.cmd('LIST 2'), /^-ERR message 2 is already deleted/);
    c.send('LIST\r\n');
    assert.equal((await c.multi()).body.toString(), `1 ${MSG1.length}\r\n3 ${MSG3.length}\r\n`);
    assert.match(await c.cmd('RSET'), /^\+OK maildrop has 3 message/);
    assert.equal(await c.cmd('DELE 1'), '+OK message 1 deleted');
    assert.equal(await c.cmd('DELE 3'), '+OK message 3 deleted');
    assert.deepEqual(state.commits, []);
    assert.match(await c.cmd('QUIT'), /^\+OK .*signing off \(1 message\(s\) left\)/);
    await c.waitClosed();
    assert.deepEqual(state.commits, [[1, 3]]);
    assert.equal(state.releases, 1);
  });

  it('a dropped connection deletes nothing and releases the maildrop (RFC 1939 §6)', async () => {
    const { backend, state } = fakeBackend([MSG1, MSG2]);
    const { port, done } = await serve(backend);
    const c = await loggedIn(port);
    assert.equal(await c.cmd('DELE 1'), '+OK message 1 deleted');
    c.destroy();
    await done[0];
    assert.deepEqual(state.commits, []);
    assert.equal(state.releases, 1);
  });

  it('still answers everything when the client shuts down its side right after pipelining QUIT', async () => {
    const { backend, state } = fakeBackend([MSG1, MSG2]);
    const { port, done } = await serve(backend);
    const c = await RawClient.connect(port);
    await c.line();
    c.socket.end('USER alice@example.com\r\nPASS secret\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n');
    await c.line();
    await c.line();
    assert.deepEqual(unstuff((await c.multi()).body), MSG1);
    assert.equal(await c.line(), '+OK message 1 deleted');
    assert.match(await c.line(), /^\+OK .*signing off/);
    await c.waitClosed();
    await done[0];
    assert.deepEqual(state.commits, [[1]]);
  });

  it('QUIT before login ends the session without an UPDATE state (RFC 1939 §4)', async () => {
    const { backend, state } = fakeBackend([MSG1]);
    const { port } = await serve(backend);
    const c = await RawClient.connect(port);
    await c.line();
    assert.equal(await c.cmd('QUIT'), '+OK bye');
    await c.waitClosed();
    assert.equal(state.opens, 0);
  });

  it('answers -ERR [SYS/TEMP] and deletes nothing when the maildrop lease was lost (RFC 3206 §4)', async () => {
    const { backend, state } = fakeBackend([MSG1, MSG2]);
    state.commitError = new LeaseLostError();
    const { port } = await serve(backend);
    const c = await loggedIn(port);
    await c.cmd('DELE 1');
    assert.match(
      await c.cmd('QUIT'),
      /^-ERR \[SYS\/TEMP\] some deleted messages were not removed: the maildrop lock was lost/,
    );
    await c.waitClosed();
    assert.deepEqual(state.commits, []);
    assert.equal(state.releases, 1);
  });

  it('answers -ERR [SYS/TEMP] and closes when the expunge fails in UPDATE (RFC 1939 §6)', async () => {
    const { backend, state } = fakeBackend([MSG1]);
    state.commitError = new TemporaryError('dynamo down');
    const { port } = await serve(backend);
    const c = await loggedIn(port);
    await c.cmd('DELE 1');
    assert.match(
      await c.cmd('QUIT'),
      /^-ERR \[SYS\/TEMP\] some deleted messages were not removed: storage is unavailable/,
    );
    await c.waitClosed();
  });

  it('answers [IN-USE] when another session holds the maildrop (RFC 2449 §8.1.2, RFC 1939 §8)', async () => {
    const { backend, state } = fakeBackend([MSG1]);
    state.inUse = true;
    const { port } = await serve(backend);
    const c = await RawClient.connect(port);
    await c.line();
    await c.cmd('USER alice@example.com');
    assert.match(await c.cmd('PASS secret'), /^-ERR \[IN-USE\] /);
    // Still in AUTHORIZATION: the client may try again.
    assert.match(await c.cmd('STAT'), /^-ERR STAT is not allowed before login/);
    state.inUse = false;
    await c.cmd('USER alice@example.com');
    assert.match(await c.cmd('PASS secret'), /^\+OK maildrop has 1/);
    c.destroy();
  });

  it('answers [AUTH] for wrong credentials and [SYS/TEMP] when throttled (RFC 3206 §3, §4)', async () => {
    const { port } = await serve(fakeBackend([]).backend);
    const c = await RawClient.connect(port);
    await c.line();
    await c.cmd('USER alice@example.com');
    assert.equal(await c.cmd('PASS wrong'), '-ERR [AUTH] invalid user name or password');
    assert.match(await c.cmd('PASS secret'), /^-ERR send USER first/);
    await c.cmd('USER throttled@example.com');
    assert.match(await c.cmd('PASS whatever'), /^-ERR \[SYS\/TEMP\] too many failed logins; try again in 2 minute/);
    c.destroy();
  });

  it('takes the whole rest of the line as the password (RFC 1939 §7)', async () => {
    const { backend, state } = fakeBackend([], { 'bob@example.com': 'with  two spaces ' });
    const { port } = await serve(backend);
    const c = await RawClient.connect(port);
    await c.line();
    await c.cmd('USER bob@example.com');
    assert.match(await c.cmd('PASS with  two spaces '), /^\+OK/);
    assert.equal(state.logins[0].password, 'with  two spaces ');
    c.destroy();
  });

  describe('AUTH PLAIN (RFC 5034 §4, RFC 4616)', () => {
    const plain = (authz: string, user: string, pw: string) =>
      Buffer.from(`${authz}\0${user}\0${pw}`).toString('base64');

    it('with an initial response', async () => {
      const { port } = await serve(fakeBackend([MSG1]).backend);
      const c = await RawClient.connect(port);
      await c.line();
      assert.match(await c.cmd(`AUTH PLAIN ${plain('', 'alice@example.com', 'secret')}`), /^\+OK maildrop has 1/);
      c.destroy();
    });

    it('with a continuation, and "*" cancels', async () => {
      const { port } = await serve(fakeBackend([MSG1]).backend);
      const c = await RawClient.connect(port);
      await c.line();
      assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
      assert.equal(await c.cmd('*'), '-ERR authentication cancelled');
      assert.equal(await c.cmd('auth plain'), '+ ');
      assert.match(await c.cmd(plain('alice@example.com', 'alice@example.com', 'secret')), /^\+OK maildrop/);
      c.destroy();
    });

    it('"=" is an empty initial response; malformed and foreign authorization identities are refused', async () => {
      const { port } = await serve(
        fakeBackend([MSG1], { 'alice@example.com': 'secret', 'bob@example.com': 'bobpw' }).backend,
      );
      const c = await RawClient.connect(port);
      await c.line();
      assert.match(await c.cmd('AUTH PLAIN ='), /^-ERR \[AUTH\] malformed PLAIN response/);
      assert.match(await c.cmd('AUTH PLAIN not*base64'), /^-ERR invalid base64/);
      // Bob's password cannot open Alice's maildrop.
      assert.match(
        await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'bob@example.com', 'bobpw')}`),
        /^-ERR \[AUTH\] authorization identity/,
      );
      assert.match(await c.cmd('AUTH CRAM-MD5'), /^-ERR unsupported SASL mechanism/);
      c.send('AUTH\r\n');
      assert.equal((await c.multi()).body.toString(), 'PLAIN\r\n');
      c.destroy();
    });
  });

  describe('bad input (RFC 1939 §3)', () => {
    it('answers -ERR to unknown commands, wrong arguments and commands in the wrong state', async () => {
      const { port } = await serve(fakeBackend([MSG1]).backend, { maxErrors: 100 });
      const c = await RawClient.connect(port);
      await c.line();
      assert.equal(await c.cmd('FOO'), '-ERR unknown command FOO');
      assert.equal(await c.cmd('RETR 1'), '-ERR RETR is not allowed before login');
      assert.equal(await c.cmd('USER'), '-ERR wrong arguments; usage: USER name');
      assert.equal(await c.cmd('PASS'), '-ERR wrong arguments; usage: PASS password');
      assert.equal(await c.cmd(''), '-ERR empty command line');
      assert.equal(await c.cmd('\x01\x02'), '-ERR malformed command');
      await c.cmd('USER alice@example.com');
      await c.cmd('PASS secret');
      assert.equal(await c.cmd('USER alice@example.com'), '-ERR USER is not allowed in the TRANSACTION state');
      assert.equal(await c.cmd('STLS'), '-ERR STLS is not allowed in the TRANSACTION state');
      assert.equal(await c.cmd('STAT 1'), '-ERR wrong arguments; usage: STAT');
      assert.equal(await c.cmd('LIST 1 2'), '-ERR wrong arguments; usage: LIST [msg]');
      c.destroy();
    });

    it('answers -ERR to message numbers out of range, malformed, or deleted (RFC 1939 §5)', async () => {
      const { port } = await serve(fakeBackend([MSG1, MSG2]).backend, { maxErrors: 100 });
      const c = await loggedIn(port);
      assert.equal(await c.cmd('RETR 0'), '-ERR invalid message number "0"');
      assert.equal(await c.cmd('RETR 3'), '-ERR no such message: 3 (maildrop has 2)');
      assert.equal(await c.cmd('LIST 99999'), '-ERR no such message: 99999 (maildrop has 2)');
      assert.equal(await c.cmd('DELE abc'), '-ERR invalid message number "abc"');
      assert.equal(await c.cmd('TOP -1 0'), '-ERR invalid message number "-1"');
      assert.equal(await c.cmd('UIDL 99999999999999999999'), '-ERR invalid message number "99999999999999999999"');
      await c.cmd('DELE 1');
      assert.equal(await c.cmd('TOP 1 0'), '-ERR message 1 is already deleted');
      assert.equal(await c.cmd('UIDL 1'), '-ERR message 1 is already deleted');
      assert.equal(await c.cmd('NOOP'), '+OK');
      c.destroy();
    });

    it('refuses lines over 255 octets and keeps working; huge lines are discarded, not buffered (RFC 2449 §4)', async () => {
      const { port } = await serve(fakeBackend([MSG1]).backend);
      const c = await RawClient.connect(port);
      await c.line();
      assert.equal(await c.cmd(`USER ${'a'.repeat(300)}`), '-ERR line too long (at most 255 octets with CRLF)');
      c.send(`NOOP ${'x'.repeat(2_000_000)}\r\n`);
      assert.equal(await c.line(), '-ERR line too long (at most 255 octets with CRLF)');
      assert.equal(await c.cmd('CAPA'), '+OK capability list follows');
      c.destroy();
    });

    it('closes the connection after too many errors', async () => {
      const { port, done } = await serve(fakeBackend([MSG1]).backend, { maxErrors: 5 });
      const c = await RawClient.connect(port);
      await c.line();
      for (const k of ['XA', 'XB', 'XC', 'XD']) assert.equal(await c.cmd(`${k}YZ`), `-ERR unknown command ${k}YZ`);
      assert.equal(await c.cmd('XEYZ'), '-ERR unknown command XEYZ; too many errors, closing connection');
      await c.waitClosed();
      await done[0];
    });

    it('survives garbage: binary, NUL, bare CR, lines cut by the client closing', async () => {
      const { port, done } = await serve(fakeBackend([MSG1]).backend, { maxErrors: 1000 });
      const c = await RawClient.connect(port);
      await c.line();
      c.send(Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0d, 0x0a, 0x80, 0x0a]));
      c.send('USER a\0b\r\nSTAT\rSTAT\r\nUSER alice@example.com\r\nPASS secret\r\nRETR 1');
      c.socket.end();
      await done[0];
    });
  });

  it('defaults the autologout timer to 10 minutes, the minimum of RFC 1939 §3', () => {
    const pop3 = (env: Record<string, string>) => loadConfig({ POSTERN_INVOKER: 'local', ...env }).pop3;
    assert.deepEqual(pop3({}), { idleTimeoutMs: 600_000, leaseMs: 60_000, maxErrors: 10 });
    assert.equal(pop3({ POSTERN_POP3_IDLE_MS: '1500' }).idleTimeoutMs, 1500);
    assert.throws(() => pop3({ POSTERN_POP3_LEASE_MS: '5' }), /POSTERN_POP3_LEASE_MS/);
  });

  it('closes an idle session without entering UPDATE (RFC 1939 §3 autologout)', async () => {
    const { backend, state } = fakeBackend([MSG1]);
    const { port, done } = await serve(backend, { idleTimeoutMs: 300 });
    const c = await loggedIn(port);
    await c.cmd('DELE 1');
    assert.match(await c.line(2000), /^-ERR autologout/);
    await c.waitClosed();
    await done[0];
    assert.deepEqual(state.commits, []);
    assert.equal(state.releases, 1);
  });

  it('closes the connection when a message stream fails midway (no false end of message)', async () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(200_000)}\r\n`);
    const { backend, state } = fakeBackend([big]);
    state.breakAfter = 100_000;
    const { port, done } = await serve(backend);
    const c = await loggedIn(port);
    c.send('RETR 1\r\n');
    await c.waitClosed();
    await done[0];
    assert.ok(!c.pending().includes('\r\n.\r\n'), 'no terminator after a broken stream');
    assert.deepEqual(state.commits, []);
  });

  it('answers -ERR when a message body has gone, and -ERR [SYS/TEMP] on storage trouble', async () => {
    const { backend, state } = fakeBackend([MSG1, MSG2]);
    state.openError = (n) => (n === 1 ? new NotFoundError('gone') : new TemporaryError('s3 down'));
    const { port } = await serve(backend);
    const c = await loggedIn(port);
    assert.equal(await c.cmd('RETR 1'), '-ERR message 1 is no longer available');
    assert.equal(await c.cmd('RETR 2'), '-ERR [SYS/TEMP] temporary failure, try again later');
    assert.equal(await c.cmd('NOOP'), '+OK');
    c.destroy();
  });

  describe('plaintext and STLS (RFC 2595)', () => {
    it('refuses passwords before TLS when plaintext auth is off, and CAPA says so (RFC 2595 §2.1, §4)', async () => {
      const { backend, state } = fakeBackend([MSG1]);
      const { port } = await serve(backend, { allowPlaintextAuth: false });
      const c = await RawClient.connect(port);
      await c.line();
      c.send('CAPA\r\n');
      const caps = (await c.multi()).body.toString().split('\r\n');
      assert.ok(caps.includes('STLS'));
      assert.ok(!caps.includes('USER'));
      assert.ok(!caps.some((l) => l.startsWith('SASL')));
      assert.match(await c.cmd('USER alice@example.com'), /^-ERR \[AUTH\] plaintext authentication is disabled/);
      assert.match(await c.cmd('PASS secret'), /^-ERR \[AUTH\] plaintext authentication is disabled/);
      assert.match(await c.cmd('AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA=='), /^-ERR \[AUTH\] plaintext/);
      assert.equal(state.logins.length, 0, 'the password never reached the authenticator');

      assert.equal(await c.cmd('STLS'), '+OK Begin TLS negotiation');
      await c.startTls();
      c.send('CAPA\r\n');
      const secureCaps = (await c.multi()).body.toString().split('\r\n');
      assert.ok(!secureCaps.includes('STLS'));
      assert.ok(secureCaps.includes('USER'));
      assert.ok(secureCaps.includes('SASL PLAIN'));
      assert.equal(await c.cmd('STLS'), '-ERR TLS is already active');
      assert.match(await c.cmd('USER alice@example.com'), /^\+OK/);
      assert.match(await c.cmd('PASS secret'), /^\+OK maildrop has 1/);
      c.send('CAPA\r\n');
      const txCaps = (await c.multi()).body.toString();
      assert.doesNotMatch(txCaps, /USER|SASL|STLS/);
      c.destroy();
    });

    it('never executes plaintext pipelined after STLS (RFC 2595 §4, command injection)', async () => {
      const { backend, state } = fakeBackend([MSG1]);
      const { port } = await serve(backend);
      const c = await RawClient.connect(port);
      await c.line();
      c.send('STLS\r\nUSER alice@example.com\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n');
      assert.equal(await c.line(), '+OK Begin TLS negotiation');
      await c.startTls();
      assert.equal(await c.cmd('NOOP'), '-ERR NOOP is not allowed before login');
      assert.equal(state.logins.length, 0);
      assert.equal(c.pending(), '');
      c.destroy();
    });

    it('forgets a USER given before STLS', async () => {
      const { port } = await serve(fakeBackend([MSG1]).backend);
      const c = await RawClient.connect(port);
      await c.line();
      await c.cmd('USER alice@example.com');
      await c.cmd('STLS');
      await c.startTls();
      assert.equal(await c.cmd('PASS secret'), '-ERR send USER first');
      c.destroy();
    });
  });
});
