/**
 * IMAP compliance: STORE and flags (RFC 3501 §2.3.2, §6.4.6, §7.2.6; RFC 9051 §2.3.2, §6.4.6): \Recent is
 * the server's, flag-extension flags are not taken, keywords compare case-insensitively, FLAGS responses
 * after STORE, a read-only mailbox, PERMANENTFLAGS, and a new keyword announced in FLAGS before use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { complianceServer } from './imap-compliance-support.ts';

const env = complianceServer();

const SYSTEM = '\\Answered \\Flagged \\Deleted \\Seen \\Draft';

describe('IMAP compliance: STORE (RFC 9051 §6.4.6)', () => {
  it('\\Recent cannot be stored and an unknown system flag is BAD; nothing changes (RFC 3501 §2.3.2, §9 flag-extension)', async () => {
    await env.mailboxWith('Recent', ['Subject: r\r\n\r\nr\r\n']);
    const c = await env.login();
    await c.cmd('SELECT Recent');
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Recent)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('STORE 1 FLAGS (\\Seen \\Recent)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Unknown)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('STORE 1 +FLAGS (\\*)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('STORE 1 +FLAGS (a(b)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('STORE 1 XFLAGS (\\Seen)')).status, /^a\d+ BAD /);
    assert.deepEqual((await c.cmd('FETCH 1 FLAGS')).untagged, ['* 1 FETCH (FLAGS ())']);
    c.destroy();
  });

  it('each STORE answers the whole new flag set; system flags in any case; the list may be unparenthesised; .SILENT says nothing', async () => {
    await env.mailboxWith('Store', ['Subject: 1\r\n\r\n1\r\n', 'Subject: 2\r\n\r\n2\r\n']);
    const c = await env.login();
    await c.cmd('SELECT Store');
    assert.deepEqual((await c.cmd('STORE 1 +FLAGS (\\seen \\FLAGGED)')).untagged, [
      '* 1 FETCH (FLAGS (\\Flagged \\Seen))',
    ]);
    assert.deepEqual((await c.cmd('STORE 1:2 +FLAGS \\Answered')).untagged, [
      '* 1 FETCH (FLAGS (\\Answered \\Flagged \\Seen))',
      '* 2 FETCH (FLAGS (\\Answered))',
    ]);
    assert.deepEqual((await c.cmd('STORE 1 -FLAGS (\\Seen \\Draft)')).untagged, [
      '* 1 FETCH (FLAGS (\\Answered \\Flagged))',
    ]);
    const uid = await c.cmd('UID STORE 1:* FLAGS ()');
    assert.equal(uid.untagged.length, 2);
    assert.match(uid.untagged[0], /^\* 1 FETCH \((FLAGS \(\) UID \d+|UID \d+ FLAGS \(\))\)$/);
    assert.deepEqual((await c.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)')).untagged, []);
    assert.deepEqual((await c.cmd('FETCH 2 FLAGS')).untagged, ['* 2 FETCH (FLAGS (\\Deleted))']);
    c.destroy();
  });

  it('keywords compare case-insensitively: a second spelling neither adds a flag nor misses on removal (RFC 3501 §9 note 1)', async () => {
    await env.mailboxWith('Keywords', ['Subject: k\r\n\r\nk\r\n']);
    const c = await env.login();
    await c.cmd('SELECT Keywords');
    await c.cmd('STORE 1 +FLAGS.SILENT ($Work)');
    const again = await c.cmd('STORE 1 +FLAGS ($WORK)');
    assert.equal(again.untagged.at(-1), '* 1 FETCH (FLAGS ($Work))');
    assert.deepEqual((await c.cmd('SEARCH KEYWORD $work')).untagged, ['* SEARCH 1']);
    const removed = await c.cmd('STORE 1 -FLAGS ($wOrK)');
    assert.equal(removed.untagged.at(-1), '* 1 FETCH (FLAGS ())');
    c.destroy();
  });

  it('STORE in a mailbox opened with EXAMINE is NO [READ-ONLY], and PERMANENTFLAGS is () there (RFC 9051 §6.3.3)', async () => {
    await env.mailboxWith('ReadOnly', ['Subject: ro\r\n\r\nro\r\n']);
    const c = await env.login();
    const ex = await c.cmd('EXAMINE ReadOnly');
    assert.ok(ex.untagged.includes('* OK [PERMANENTFLAGS ()] no permanent flags'), ex.untagged.join('\n'));
    assert.match((await c.cmd('STORE 1 +FLAGS (\\Seen)')).status, /^a\d+ NO \[READ-ONLY\] /);
    // RFC 9051 §6.4.5: BODY[] in a read-only mailbox does not set \Seen
    await c.cmd('FETCH 1 BODY[]');
    assert.deepEqual((await c.cmd('FETCH 1 FLAGS')).untagged, ['* 1 FETCH (FLAGS ())']);
    c.destroy();
  });

  it('SELECT lists the mailbox keywords in FLAGS and PERMANENTFLAGS with \\* (RFC 9051 §7.3.5, §7.1)', async () => {
    await env.mailboxWith('Perm', ['Subject: p\r\n\r\np\r\n'], { flags: ['$Seen2'] });
    const c = await env.login();
    const sel = await c.cmd('SELECT Perm');
    assert.ok(sel.untagged.includes(`* FLAGS (${SYSTEM} $Seen2)`), sel.untagged.join('\n'));
    assert.ok(
      sel.untagged.includes(`* OK [PERMANENTFLAGS (${SYSTEM} $Seen2 \\*)] flags kept`),
      sel.untagged.join('\n'),
    );
    c.destroy();
  });

  it('a keyword new to the mailbox is announced in * FLAGS and PERMANENTFLAGS before the FETCH that uses it (RFC 3501 §7.2.6)', async () => {
    await env.mailboxWith('NewKw', ['Subject: n\r\n\r\nn\r\n']);
    const a = await env.login();
    await a.cmd('SELECT NewKw');
    const store = await a.cmd('STORE 1 +FLAGS ($Fresh)');
    assert.deepEqual(store.untagged, [
      `* FLAGS (${SYSTEM} $Fresh)`,
      `* OK [PERMANENTFLAGS (${SYSTEM} $Fresh \\*)] flags kept`,
      '* 1 FETCH (FLAGS ($Fresh))',
    ]);
    assert.deepEqual((await a.cmd('STORE 1 +FLAGS ($fresh)')).untagged, ['* 1 FETCH (FLAGS ($Fresh))']);
    a.destroy();
  });

  it("another session's new keyword is announced in * FLAGS and PERMANENTFLAGS before its FETCH (RFC 3501 §7.2.6)", async () => {
    await env.mailboxWith('NewKw2', ['Subject: n\r\n\r\nn\r\n']);
    const a = await env.login();
    const b = await env.login();
    await a.cmd('SELECT NewKw2');
    await b.cmd('SELECT NewKw2');
    await a.cmd('STORE 1 +FLAGS.SILENT ($Other)');
    const noop = await b.cmd('NOOP');
    assert.deepEqual(noop.untagged, [
      `* FLAGS (${SYSTEM} $Other)`,
      `* OK [PERMANENTFLAGS (${SYSTEM} $Other \\*)] flags kept`,
      '* 1 FETCH (FLAGS ($Other))',
    ]);
    // told once: a second change with the same keyword brings only its FETCH; EXAMINE gets FLAGS alone
    const e = await env.login();
    await e.cmd('EXAMINE NewKw2');
    await a.cmd('STORE 1 -FLAGS.SILENT ($Other)');
    assert.deepEqual((await b.cmd('NOOP')).untagged, ['* 1 FETCH (FLAGS ())']);
    await a.cmd('STORE 1 +FLAGS.SILENT ($Third)');
    assert.deepEqual((await e.cmd('NOOP')).untagged, [
      `* FLAGS (${SYSTEM} $Other $Third)`,
      '* 1 FETCH (FLAGS ($Third))',
    ]);
    a.destroy();
    b.destroy();
    e.destroy();
  });

  it('IMAP4rev1 SELECT tells the first unseen message as OK [UNSEEN n] (RFC 3501 §6.3.1)', async () => {
    await env.mailboxWith('Unseen', ['Subject: 1\r\n\r\n1\r\n'], { flags: ['\\Seen'] });
    await env.deliver('Unseen', 'Subject: 2\r\n\r\n2\r\n');
    const c = await env.login();
    const sel = await c.cmd('SELECT Unseen');
    assert.ok(
      sel.untagged.some((l) => /^\* OK \[UNSEEN 2\] /.test(l)),
      sel.untagged.join('\n'),
    );
    c.destroy();
  });
});
