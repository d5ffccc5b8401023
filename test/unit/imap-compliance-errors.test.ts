/**
 * IMAP compliance: error handling (RFC 9051 §7.1.3-§7.1.5, RFC 2177): too many errors end in BYE, a client
 * that vanishes mid-literal leaves nothing behind, IDLE followed by something other than DONE, pipelined
 * commands answered in order, LOGOUT.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImapClient } from '../protocol/imap-support.ts';
import { complianceServer, USER } from './imap-compliance-support.ts';

const MAX_ERRORS = 5;
const env = complianceServer({ maxErrors: MAX_ERRORS });

describe('IMAP compliance: errors and connection life (RFC 9051 §7.1)', () => {
  it(`after ${MAX_ERRORS} bad commands the server says * BYE and closes (RFC 9051 §7.1.5)`, async () => {
    const c = await env.login();
    for (let i = 1; i < MAX_ERRORS; i++)
      assert.match((await c.cmd('BOGUS', `e${i}`)).status, new RegExp(`^e${i} BAD `));
    c.send(`e${MAX_ERRORS} FETCH\r\n`);
    assert.match(await c.line(), new RegExp(`^e${MAX_ERRORS} BAD `));
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
  });

  it('a client that disconnects in the middle of a literal leaves the server serving, and no half message', async () => {
    await env.storage.mail.createMailbox(env.account.accountId, 'Half');
    const c = await env.login();
    c.send('h1 APPEND Half {1000}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send(`Subject: half\r\n\r\n${'x'.repeat(100)}`);
    await new Promise((r) => setTimeout(r, 100));
    c.destroy();
    const d = await ImapClient.connect(env.port);
    assert.match(await d.line(), /^\* OK /);
    d.send(`l1 LOGIN {${USER.length}}\r\n`);
    assert.match(await d.line(), /^\+ /);
    d.destroy();
    const e = await env.login();
    assert.deepEqual((await e.cmd('STATUS Half (MESSAGES)')).untagged, ['* STATUS Half (MESSAGES 0)']);
    e.destroy();
  });

  it('IDLE then something other than DONE is BAD and the session goes on; done in lower case ends IDLE (RFC 2177 §3)', async () => {
    const c = await env.login();
    await c.cmd('SELECT INBOX');
    c.send('i1 IDLE\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('garbage here\r\n');
    assert.match(await c.line(), /^i1 BAD /);
    assert.match((await c.cmd('NOOP', 'n1')).status, /^n1 OK /);
    c.send('i2 IDLE\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('done\r\n');
    assert.match(await c.line(), /^i2 OK /);
    c.destroy();
  });

  it('pipelined commands are answered in order, each with its own tag (RFC 9051 §5.5)', async () => {
    await env.mailboxWith('Pipe', ['Subject: p1\r\n\r\n1\r\n', 'Subject: p2\r\n\r\n2\r\n']);
    const c = await ImapClient.connect(env.port);
    assert.match(await c.line(), /^\* OK /);
    c.send(
      `p1 LOGIN ${USER} secret\r\np2 SELECT Pipe\r\np3 FETCH 1:* (UID)\r\np4 BOGUS\r\n` +
        'p5 STORE 1 +FLAGS (\\Seen)\r\np6 SEARCH SEEN\r\np7 LOGOUT\r\n',
    );
    const tags: string[] = [];
    const untagged: string[] = [];
    for (;;) {
      const line = await c.line();
      if (line.startsWith('* ')) untagged.push(line);
      else tags.push(line.split(' ').slice(0, 2).join(' '));
      if (line.startsWith('p7 ')) break;
    }
    assert.deepEqual(tags, ['p1 OK', 'p2 OK', 'p3 OK', 'p4 BAD', 'p5 OK', 'p6 OK', 'p7 OK']);
    assert.ok(untagged.includes('* SEARCH 1'), untagged.join('\n'));
    assert.equal(untagged.at(-1)?.startsWith('* BYE '), true);
    await c.waitClosed();
  });

  it('a line without a tag is * BAD; an empty line is ignored; LOGOUT answers BYE then OK and closes (RFC 9051 §6.1.3)', async () => {
    const c = await ImapClient.connect(env.port);
    assert.match(await c.line(), /^\* OK /);
    c.send('\r\n\r\nNOOP\r\n');
    assert.match(await c.line(), /^(\* BAD|NOOP BAD) /);
    c.send('x1 LOGOUT\r\nx2 NOOP\r\n');
    assert.match(await c.line(), /^\* BYE /);
    assert.match(await c.line(), /^x1 OK /);
    await c.waitClosed();
    assert.equal(c.pending(), '');
  });
});
