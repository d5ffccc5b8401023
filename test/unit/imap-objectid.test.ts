/**
 * OBJECTID for messages (RFC 8474 §5, §6) and SAVEDATE (RFC 8514) over a real socket with real storage:
 * EMAILID stays across COPY and MOVE, THREADID is NIL, SEARCH EMAILID/THREADID; FETCH SAVEDATE is when the
 * copy arrived in its mailbox, SEARCH SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { formatDateTime } from '../../lib/imap/codec/dates.ts';
import { deliverTo } from '../protocol/imap-support.ts';
import { type ImapTestServer, imapTestServer } from './imap-test-server.ts';

let t: ImapTestServer;
before(async () => {
  t = await imapTestServer();
});

const OBJECTID = /^[A-Za-z0-9_-]{1,255}$/;
const imapDay = (ms: number) => formatDateTime(new Date(ms)).slice(0, 11).trim();

describe('OBJECTID EMAILID and THREADID (RFC 8474)', () => {
  it('EMAILID is an objectid that COPY and MOVE keep (§5.1); THREADID is NIL without threading (§5.2)', async () => {
    await t.storage.mail.createMailbox(t.account.accountId, 'Ids');
    await deliverTo(t.storage, t.account.accountId, Buffer.from('Subject: a\r\n\r\na\r\n'), { mailbox: 'Ids' });
    await deliverTo(t.storage, t.account.accountId, Buffer.from('Subject: a\r\n\r\na\r\n'), { mailbox: 'Ids' });
    const c = await t.login();
    await c.cmd('SELECT Ids');
    const r = await c.cmd('FETCH 1:2 (EMAILID THREADID)');
    const ids = r.untagged.map((l) => /EMAILID \(([^)]+)\)/.exec(l)?.[1] ?? '');
    assert.deepEqual(r.untagged, [
      `* 1 FETCH (EMAILID (${ids[0]}) THREADID NIL)`,
      `* 2 FETCH (EMAILID (${ids[1]}) THREADID NIL)`,
    ]);
    for (const id of ids) assert.match(id, OBJECTID);
    assert.notEqual(ids[0], ids[1], 'two deliveries of equal octets are two emails');
    assert.match((await c.cmd('COPY 1 Archive')).status, /OK/);
    assert.match((await c.cmd('MOVE 2 Trash')).status, /OK/);
    await c.cmd('EXAMINE Archive');
    assert.deepEqual((await c.cmd('FETCH 1:* (EMAILID)')).untagged.at(-1), `* 1 FETCH (EMAILID (${ids[0]}))`);
    await c.cmd('EXAMINE Trash');
    assert.deepEqual((await c.cmd('FETCH 1:* (EMAILID)')).untagged.at(-1), `* 1 FETCH (EMAILID (${ids[1]}))`);
    // SEARCH EMAILID / THREADID (§6)
    await c.cmd('SELECT Ids');
    assert.deepEqual((await c.cmd(`SEARCH EMAILID ${ids[0]}`)).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd(`UID SEARCH NOT EMAILID ${ids[0]}`)).untagged, ['* SEARCH']);
    assert.deepEqual((await c.cmd('SEARCH THREADID T1')).untagged, ['* SEARCH']);
    c.destroy();
  });
});

describe('SAVEDATE (RFC 8514)', () => {
  it('FETCH SAVEDATE is when the message was appended, copied or moved in, not its internal date (§4)', async () => {
    await t.storage.mail.createMailbox(t.account.accountId, 'Saved');
    const old = Date.UTC(2020, 0, 2, 3, 4, 5);
    const c = await t.login();
    const before = Date.now();
    c.send('s1 APPEND Saved "02-Jan-2020 03:04:05 +0000" {12}\r\n');
    assert.match(await c.line(), /^\+ /);
    c.send('Subject: s\r\n\r\n');
    assert.match(await c.line(), /^s1 OK /);
    await c.cmd('SELECT Saved');
    const r = await c.cmd('FETCH 1 (INTERNALDATE SAVEDATE)');
    const saved = /SAVEDATE "([^"]+)"/.exec(r.untagged[0])?.[1] ?? '';
    assert.equal(r.untagged[0], `* 1 FETCH (INTERNALDATE "${formatDateTime(new Date(old))}" SAVEDATE "${saved}")`);
    const savedMs = Date.parse(saved.replace(/^(\d+)-(\w+)-(\d+) /, '$2 $1 $3 '));
    assert.ok(savedMs >= before - 1000 && savedMs <= Date.now() + 1000, `${saved} is now`);
    // SEARCH: SAVEDATESUPPORTED on every mailbox; SAVEDON today, SAVEDBEFORE the internal date's day does not match
    const today = imapDay(Date.now());
    assert.deepEqual((await c.cmd('SEARCH SAVEDATESUPPORTED')).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd(`SEARCH SAVEDON ${today}`)).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd(`SEARCH SAVEDSINCE ${today}`)).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd('SEARCH SAVEDBEFORE 03-Jan-2020')).untagged, ['* SEARCH']);
    assert.deepEqual((await c.cmd('SEARCH BEFORE 03-Jan-2020')).untagged, ['* SEARCH 1']);
    assert.match((await c.cmd('COPY 1 Archive')).status, /OK/);
    await c.cmd('EXAMINE Archive');
    const copy = await c.cmd('FETCH 1:* (SAVEDATE)');
    assert.match(copy.untagged.at(-1)!, new RegExp(`SAVEDATE "${today}`));
    c.destroy();
  });
});
