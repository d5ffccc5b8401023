/**
 * A hostile peer against the gateway, over real sockets on 127.0.0.1: connection floods (each listener has its
 * own cap; under stress idle connections drain), slow clients (SMTP line deadline, data rate, session deadline,
 * junk commands) and silent TLS handshakes. Every value is tiny here; the defaults are in lib/core/config.ts.
 * Needs python3 (smtplib, poplib) for the legitimate clients.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { createLogger } from '../../lib/core/log.ts';
import { startGateway } from '../../lib/gateway/gateway.ts';
import { createHandlers } from '../../lib/pipeline/handlers.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';
import { testConfig } from '../support/config.ts';
import { startTestGateway, testTls } from '../support/gateway.ts';
import { freshStorage } from '../support/storage.ts';
import { poplib, RawClient, text } from './pop3-support.ts';
import { expectCode, RawSmtp, sendMail, simpleMessage, startMxGateway } from './smtp-helpers.ts';

const run = promisify(execFile);
/** Longest wait for anything the server should do within a second: generous for a loaded 2-core machine. */
const PATIENCE_MS = 10_000;
const FLOOD = { POSTERN_MAX_CONNECTIONS_PER_IP: '100' };

/** Opens `n` SMTP connections and reads each greeting (so each is counted by the listener). */
async function smtpFlood(port: number, n: number): Promise<RawSmtp[]> {
  const open: RawSmtp[] = [];
  for (let i = 0; i < n; i++) {
    const { c, greeting } = await RawSmtp.greet(port);
    assert.equal(greeting.code, 220);
    open.push(c);
  }
  return open;
}

/** Opens `n` line-protocol connections (POP3, IMAP) and reads each greeting line. */
async function lineFlood(port: number, n: number, greeting: RegExp): Promise<RawClient[]> {
  const open: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawClient.connect(port);
    assert.match(await c.line(), greeting);
    open.push(c);
  }
  return open;
}

/** Writes `bytes` one at a time, `everyMs` apart, until done or the connection is gone. */
function trickle(c: RawSmtp, bytes: string, everyMs: number): { stop(): void } {
  let i = 0;
  const timer = setInterval(() => {
    if (c.closed || i >= bytes.length) return clearInterval(timer);
    c.write(bytes[i++]);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}

/** A Python smtplib session that sends one message; returns sendmail's refused-recipients dict. */
async function smtplibSend(port: number, to: string, message: string): Promise<unknown> {
  const { stdout } = await run('python3', [
    '-c',
    `import smtplib, sys, json
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=30)
print(json.dumps(s.sendmail('alice@sender.test', [sys.argv[2]], sys.argv[3].encode())))
s.quit()`,
    String(port),
    to,
    message,
  ]);
  return JSON.parse(stdout);
}

const closeAll = (conns: { socket: { destroy(): void } }[]) => {
  for (const c of conns) c.socket.destroy();
};

// Started before any test is registered: a root `after` hook closes it once every test has run.
/** Idle timeouts far away, so that only the deadlines under test can end these sessions. */
const slow = await startMxGateway({
  env: {
    POSTERN_SMTP_COMMAND_TIMEOUT_MS: '30000',
    POSTERN_SMTP_DATA_TIMEOUT_MS: '30000',
    POSTERN_POP3_IDLE_MS: '30000',
    POSTERN_SMTP_LINE_TIMEOUT_MS: '1000',
    POSTERN_SMTP_MIN_DATA_RATE: '100',
    POSTERN_SMTP_DATA_RATE_WINDOW_MS: '500',
    POSTERN_TLS_HANDSHAKE_TIMEOUT_MS: '300',
  },
});
await slow.addAccount('bob@ours.test', 'pw');
await slow.addAccount('carol@ours.test', 'pw');

describe('connection floods', () => {
  test('each listener has its own cap: full gets 421 4.7.0 / -ERR [SYS/TEMP] / BYE, the others still accept', async (t) => {
    const tg = await startTestGateway({
      env: {
        ...FLOOD,
        POSTERN_MAX_CONNECTIONS_SMTP: '4',
        POSTERN_MAX_CONNECTIONS_POP3: '3',
        POSTERN_MAX_CONNECTIONS_IMAP: '3',
      },
    });
    t.after(() => tg.close());
    const open: { socket: { destroy(): void } }[] = [];
    t.after(() => closeAll(open));

    open.push(...(await smtpFlood(tg.port('smtp'), 4)));
    const refused = await RawSmtp.open(tg.port('smtp'));
    open.push(refused);
    const reply = await refused.reply();
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.7\.0 Too many connections/);
    assert.equal(await refused.waitClosed(), true);

    // The MX is full; POP3 and IMAP on the same gateway are not affected, then fill up on their own.
    open.push(...(await lineFlood(tg.port('pop3'), 3, /^\+OK/)));
    const pop3Refused = await RawClient.connect(tg.port('pop3'));
    open.push(pop3Refused);
    assert.match(await pop3Refused.line(), /^-ERR \[SYS\/TEMP\] too many connections/);
    open.push(...(await lineFlood(tg.port('imap'), 3, /^\* OK/)));
    const imapRefused = await RawClient.connect(tg.port('imap'));
    open.push(imapRefused);
    assert.match(await imapRefused.line(), /^\* BYE \[UNAVAILABLE\]/);
    // 995 has a cap of its own, though it shares the POP3 setting with 110.
    const pop3s = await RawClient.connect(tg.port('pop3s'), { tls: true });
    open.push(pop3s);
    assert.match(await pop3s.line(), /^\+OK/);
  });

  test('under stress (75% of the cap) idle connections are closed after the short timeout; a new client is served', async (t) => {
    const tg = await startMxGateway({
      env: {
        ...FLOOD,
        POSTERN_MAX_CONNECTIONS_SMTP: '4',
        POSTERN_MAX_CONNECTIONS_POP3: '4',
        POSTERN_SMTP_COMMAND_TIMEOUT_MS: '60000',
        POSTERN_POP3_IDLE_MS: '600000',
        POSTERN_STRESS_IDLE_TIMEOUT_MS: '300',
      },
    });
    t.after(() => tg.close());
    await tg.addAccount('bob@ours.test', 'pw');

    const flood = await smtpFlood(tg.port('smtp'), 4);
    t.after(() => closeAll(flood));
    const started = Date.now();
    for (const c of flood) {
      assert.equal(await c.waitClosed(PATIENCE_MS), true, 'an idle connection is closed under stress');
      assert.match(c.unread, /^421 /);
    }
    t.diagnostic(`smtp: 4 idle connections drained ${Date.now() - started} ms after the last greeting`);
    const refusedRecipients = await smtplibSend(tg.port('smtp'), 'bob@ours.test', simpleMessage({ subject: 'after' }));
    assert.deepEqual(refusedRecipients, {});
    assert.equal((await tg.messages('bob@ours.test')).length, 1);

    // RFC 1939 §3 asks for 10 minutes of autologout; under stress the listener takes its connections back sooner.
    const pops = await lineFlood(tg.port('pop3'), 4, /^\+OK/);
    t.after(() => closeAll(pops));
    const popStarted = Date.now();
    for (const c of pops) {
      await c.waitClosed(PATIENCE_MS);
      assert.match(c.pending(), /^-ERR autologout/);
    }
    t.diagnostic(`pop3: 4 idle connections drained ${Date.now() - popStarted} ms after the last greeting`);
    const result = await poplib({
      mode: 'plain',
      port: tg.port('pop3'),
      steps: [['user', 'bob@ours.test'], ['pass_', 'pw'], ['stat'], ['quit']],
    });
    assert.match(text(result.steps[1]), /^\+OK/);
    assert.equal((result.steps[2] as number[])[0], 1, 'the message is in the maildrop');
  });

  test('caps that do not fit the descriptor limit are scaled down at start, with a warning', async (t) => {
    const storage = await freshStorage();
    const config = testConfig({
      ...FLOOD,
      POSTERN_FD_RESERVE: '0',
      POSTERN_MAX_CONNECTIONS_SMTP: '10',
      POSTERN_MAX_CONNECTIONS_SUBMISSION: '10',
      POSTERN_MAX_CONNECTIONS_POP3: '10',
      POSTERN_MAX_CONNECTIONS_IMAP: '10',
    });
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', sink: (line) => lines.push(line) });
    const gateway = await startGateway(
      {
        config,
        storage,
        invoker: new LocalInvoker(createHandlers(storage)),
        authenticator: createAuthenticator(storage.directory, config.auth),
        tls: await testTls(),
        log,
      },
      { fdLimit: 35 }, // 7 listeners of 10 need 70: half of each cap fits
    );
    t.after(() => gateway.close(0));
    const warning = lines.map((l) => JSON.parse(l)).find((l) => /scaled down/.test(l.msg));
    assert.deepEqual(warning?.maxConnections, { smtp: 5, submission: 5, pop3: 5, imap: 5 });
    const port = gateway.listeners.find((l) => l.name === 'smtp')!.port;
    const open = await smtpFlood(port, 5);
    t.after(() => closeAll(open));
    const refused = await RawSmtp.open(port);
    open.push(refused);
    assert.equal((await refused.reply()).code, 421);
  });
});

describe('slow clients', () => {
  test('a client trickling a command line byte by byte gets 421 4.4.2 at the line deadline', async (t) => {
    const { c } = await RawSmtp.greet(slow.port('smtp'));
    t.after(() => c.close());
    const started = Date.now();
    const drip = trickle(c, `EHLO ${'a'.repeat(60)}`, 200); // 13 s if nothing stopped it
    t.after(() => drip.stop());
    const reply = await c.reply(PATIENCE_MS);
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.4\.2 Command line not completed in time/);
    assert.equal(await c.waitClosed(), true);
    t.diagnostic(`closed ${Date.now() - started} ms after the first byte (line deadline 1000 ms)`);
  });

  test('POP3: a line trickled byte by byte does not reset the autologout timer (RFC 1939 §3)', async (t) => {
    const gw = await startTestGateway({ env: { POSTERN_POP3_IDLE_MS: '1000' } });
    t.after(() => gw.close());
    const c = await RawClient.connect(gw.port('pop3'));
    t.after(() => c.socket.destroy());
    assert.match(await c.line(), /^\+OK/);
    const started = Date.now();
    const command = `NOOP${' '.repeat(60)}`; // 13 s at this pace if nothing stopped it
    let i = 0;
    const drip = setInterval(() => {
      if (c.closed || i >= command.length) return clearInterval(drip);
      c.send(command[i++]);
    }, 200);
    t.after(() => clearInterval(drip));
    assert.match(await c.line(PATIENCE_MS), /^-ERR autologout/);
    const ms = Date.now() - started;
    assert.ok(ms < 5000, `closed after ${ms} ms, not held open by the trickle`);
    t.diagnostic(`closed ${ms} ms after the first byte (autologout 1000 ms)`);
  });

  test('a trickle of message text is closed by the minimum data rate; nothing is stored', async (t) => {
    const { c } = await RawSmtp.greet(slow.port('smtp'));
    t.after(() => c.close());
    await expectCode(c.cmd('EHLO client.example'), 250);
    await expectCode(c.cmd('MAIL FROM:<alice@sender.test>'), 250);
    await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    // 10 bytes a second, each block well inside the data timeout (RFC 5321 §4.5.3.2.6): 13 s if nothing stopped it
    const drip = trickle(c, `Subject: slow\r\n\r\n${'x'.repeat(120)}`, 100);
    t.after(() => drip.stop());
    const reply = await c.reply(PATIENCE_MS);
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.4\.2 Message text arriving too slowly/);
    assert.equal(await c.waitClosed(), true);
    assert.equal((await slow.messages('bob@ours.test')).length, 0);
  });

  test('a client sending at a normal pace is not affected by these limits', async () => {
    const reply = await sendMail(slow.port('smtp'), {
      from: 'alice@sender.test',
      to: ['carol@ours.test'],
      data: simpleMessage({ to: 'carol@ours.test', body: `${'line of text\r\n'.repeat(2000)}` }),
    });
    assert.equal(reply.code, 250, reply.text);
  });

  test('a silent client on an implicit-TLS port is closed at the handshake timeout (465, 995, 993)', async (t) => {
    for (const name of ['submissions', 'pop3s', 'imaps']) {
      const c = await RawClient.connect(slow.port(name)); // TCP only: no ClientHello ever
      t.after(() => c.destroy());
      await c.waitClosed(PATIENCE_MS);
      assert.equal(c.pending(), '', `${name}: nothing was said in clear text`);
    }
  });

  test('a client that goes silent after STARTTLS (RFC 3207) or STLS (RFC 2595) is closed at the handshake timeout', async (t) => {
    const { c } = await RawSmtp.greet(slow.port('smtp'));
    t.after(() => c.close());
    await expectCode(c.cmd('EHLO client.example'), 250);
    await expectCode(c.cmd('STARTTLS'), 220);
    assert.equal(await c.waitClosed(PATIENCE_MS), true, 'smtp');

    const p = await RawClient.connect(slow.port('pop3'));
    t.after(() => p.destroy());
    assert.match(await p.line(), /^\+OK/);
    assert.match(await p.cmd('STLS'), /^\+OK/);
    await p.waitClosed(PATIENCE_MS);
  });
});

describe('sessions that make no progress', () => {
  test('junk commands (NOOP, RSET, VRFY, HELP, unknown): one over the limit gets 421 4.7.0; a message counts as progress', async (t) => {
    const tg = await startMxGateway({ env: { POSTERN_SMTP_MAX_JUNK_COMMANDS: '5' } });
    t.after(() => tg.close());
    await tg.addAccount('bob@ours.test', 'pw');
    const { c } = await RawSmtp.greet(tg.port('smtp'));
    t.after(() => c.close());
    await expectCode(c.cmd('EHLO client.example'), 250);
    for (const junk of ['NOOP', 'RSET', 'VRFY bob@ours.test', 'HELP']) assert.notEqual((await c.cmd(junk)).code, 421);
    await expectCode(c.cmd('MAIL FROM:<alice@sender.test>'), 250);
    await expectCode(c.cmd('RCPT TO:<bob@ours.test>'), 250);
    await expectCode(c.cmd('DATA'), 354);
    c.write(`${simpleMessage()}.\r\n`);
    await expectCode(c.reply(), 250);
    for (const junk of ['NOOP', 'NOOP', 'XYZZY', 'RSET', 'NOOP']) assert.notEqual((await c.cmd(junk)).code, 421, junk);
    const reply = await c.cmd('NOOP');
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.7\.0 Too many commands without progress/);
    assert.equal(await c.waitClosed(), true);
  });

  test('the session deadline ends a session that keeps sending valid commands', async (t) => {
    const tg = await startMxGateway({ env: { POSTERN_SMTP_SESSION_TIMEOUT_MS: '1500' } });
    t.after(() => tg.close());
    const { c } = await RawSmtp.greet(tg.port('smtp'));
    t.after(() => c.close());
    const started = Date.now();
    let reply = await c.cmd('EHLO client.example');
    // at most 50 rounds (10 s): EHLO is not junk, and each one restarts the idle timer
    for (let i = 0; i < 50 && reply.code === 250; i++) {
      await new Promise((r) => setTimeout(r, 200));
      reply = await c.cmd('EHLO client.example');
    }
    assert.equal(reply.code, 421);
    assert.match(reply.text, /^4\.4\.2 Session time limit/);
    t.diagnostic(`ended ${Date.now() - started} ms into the session (deadline 1500 ms)`);
  });
});
