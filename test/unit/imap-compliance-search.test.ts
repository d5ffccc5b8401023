/**
 * IMAP compliance: SEARCH and sequence sets (RFC 3501 §6.4.4, RFC 9051 §6.4.4, §9 sequence-set): OR/NOT
 * nesting, `*` and reversed ranges, empty mailboxes, UID ranges past the last UID, dates (internal date vs
 * the Date header), size bounds, HEADER with an empty value, case-insensitive substrings.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Delivered, ImapClient } from '../protocol/imap-support.ts';
import { complianceServer, crlf } from './imap-compliance-support.ts';

const env = complianceServer();

const DAY = 86_400_000;
const MESSAGES = [
  crlf('From: Bob <bob@example.org>\nSubject: Hello there\nDate: Tue, 1 Jan 2002 23:30:00 -0500\nX-Tag: one\n\n1\n'),
  crlf(
    'From: carol@example.net\nTo: alice@example.com\nSubject: re: HELLO\nDate: Wed, 2 Jan 2002 10:00:00 +0000\n\n22\n',
  ),
  crlf('From: dan@example.com\nSubject: other\nCc: bob@example.org\n\n333\n'),
  crlf('From: "Eve Q" <eve@example.org>\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nReply-To: x@example.org\n\n4444\n'),
  crlf('From: frank@example.com\nSubject: last\nMessage-ID: <m5@example.com>\n\n55555\n'),
];
const FLAGS = [['\\Seen'], ['\\Flagged'], ['\\Seen', '\\Flagged'], ['$Label'], []];
/** Internal dates: 4 Mar 2024 23:59:59 UTC, then one day apart. */
const INTERNAL = Date.UTC(2024, 2, 4, 23, 59, 59);

let c: ImapClient;
let uids: number[];
before(async () => {
  await env.ready();
  await env.storage.mail.createMailbox(env.account.accountId, 'Find');
  const delivered: Delivered[] = [];
  for (const [i, m] of MESSAGES.entries()) {
    delivered.push(await env.deliver('Find', m, { flags: FLAGS[i], internalDate: INTERNAL + i * DAY }));
  }
  uids = delivered.map((d) => d.uid);
  await env.storage.mail.createMailbox(env.account.accountId, 'Empty');
  c = await env.login();
  await c.cmd('SELECT Find');
});

async function search(criteria: string, uid = false): Promise<string[]> {
  const r = await c.cmd(`${uid ? 'UID ' : ''}SEARCH ${criteria}`);
  assert.match(r.status, /^a\d+ OK /, `${criteria}: ${r.status}`);
  return r.untagged;
}

const found = (...n: number[]): string[] => [`* SEARCH${n.map((x) => ` ${x}`).join('')}`];

describe('IMAP compliance: OR, NOT and lists (RFC 9051 §6.4.4)', () => {
  it('NOT, OR, nested parentheses and implicit AND', async () => {
    assert.deepEqual(await search('NOT SEEN'), found(2, 4, 5));
    assert.deepEqual(await search('NOT NOT SEEN'), found(1, 3));
    assert.deepEqual(await search('OR SEEN FLAGGED'), found(1, 2, 3));
    assert.deepEqual(await search('OR (SEEN FLAGGED) KEYWORD $Label'), found(3, 4));
    assert.deepEqual(await search('NOT (OR 1 2)'), found(3, 4, 5));
    assert.deepEqual(await search('OR OR 1 2 5'), found(1, 2, 5));
    assert.deepEqual(await search('OR 1 OR 2 NOT 3:*'), found(1, 2));
    assert.deepEqual(await search('(((SEEN)) (FLAGGED))'), found(3));
    assert.deepEqual(await search('UNSEEN UNFLAGGED NOT KEYWORD $label'), found(5));
  });

  it('a malformed search is BAD: empty parentheses, OR with one key, an unknown key', async () => {
    for (const bad of ['()', 'OR SEEN', 'NOT', 'FOO', '1:x', 'LARGER x', 'BEFORE 2024-03-05', '(SEEN']) {
      assert.match((await c.cmd(`SEARCH ${bad}`)).status, /^a\d+ BAD /, bad);
    }
  });

  it('an unknown CHARSET is NO [BADCHARSET (...)] (RFC 9051 §6.4.4)', async () => {
    assert.match((await c.cmd('SEARCH CHARSET X-UNKNOWN ALL')).status, /^a\d+ NO \[BADCHARSET \(/);
  });
});

describe('IMAP compliance: sequence sets (RFC 9051 §9 sequence-set, §6.4.8)', () => {
  it('ranges may be written high to low (4:2 is 2:4), * is the last message, duplicates collapse', async () => {
    assert.deepEqual(await search('4:2'), found(2, 3, 4));
    assert.deepEqual(await search('*:4'), found(4, 5));
    assert.deepEqual(await search('*'), found(5));
    assert.deepEqual(await search('5,1,3:2,2'), found(1, 2, 3, 5));
    assert.deepEqual(await search(`UID ${uids[3]}:${uids[1]}`), found(2, 3, 4));
    const f = await c.cmd('FETCH 3:2 (UID)');
    assert.deepEqual(f.untagged, [`* 2 FETCH (UID ${uids[1]})`, `* 3 FETCH (UID ${uids[2]})`]);
  });

  it('malformed sequence sets are BAD: 0, empty elements, a missing end; *:* is the last message (RFC 9051 §9)', async () => {
    for (const bad of ['0', '0:*', '1,,2', '1:', ':3', '1:2:3', '-1', '4294967296']) {
      assert.match((await c.cmd(`FETCH ${bad} (UID)`)).status, /^a\d+ BAD /, bad);
    }
    assert.deepEqual((await c.cmd('FETCH *:* (UID)')).untagged, [`* 5 FETCH (UID ${uids[4]})`]);
  });

  it('UID SEARCH answers UIDs, also for a key naming sequence numbers', async () => {
    assert.deepEqual(await search('2', true), found(uids[1]));
    assert.deepEqual(await search('SEEN', true), found(uids[0], uids[2]));
  });

  it('UID n:* with n past the last UID names the last message (RFC 9051 §6.4.8); UID n alone names none', async () => {
    const last = uids[4];
    const f = await c.cmd(`UID FETCH ${last + 100}:* (FLAGS)`);
    assert.deepEqual(f.untagged, [`* 5 FETCH (UID ${last} FLAGS ())`]);
    assert.match(f.status, /OK/);
    const none = await c.cmd(`UID FETCH ${last + 100} (FLAGS)`);
    assert.deepEqual(none.untagged, []);
    assert.match(none.status, /^a\d+ OK /);
    assert.deepEqual((await c.cmd(`UID FETCH ${last + 1}:${last + 9} (FLAGS)`)).untagged, []);
    assert.deepEqual(await search(`UID ${last + 100}:*`, true), found(last));
    assert.deepEqual(await search(`UID ${last + 100}`, true), found());
  });

  it('a sequence number past the last message is BAD for FETCH (RFC 9051 §9 seq-number)', async () => {
    assert.match((await c.cmd('FETCH 6 (FLAGS)')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('FETCH 4:9 (FLAGS)')).status, /^a\d+ BAD /);
  });

  it('an empty mailbox: SEARCH ALL is empty, UID FETCH 1:* is OK with nothing, FETCH * is BAD (RFC 9051 §9)', async () => {
    const e = await env.login();
    await e.cmd('SELECT Empty');
    assert.deepEqual((await e.cmd('SEARCH ALL')).untagged, ['* SEARCH']);
    const uidFetch = await e.cmd('UID FETCH 1:* (FLAGS)');
    assert.deepEqual(uidFetch.untagged, []);
    assert.match(uidFetch.status, /^a\d+ OK /);
    assert.match((await e.cmd('FETCH * (FLAGS)')).status, /^a\d+ BAD /);
    assert.match((await e.cmd('FETCH 1:* (FLAGS)')).status, /^a\d+ BAD /);
    // SEARCH * has no message to name: nothing found (a BAD is allowed too)
    const star = await e.cmd('SEARCH *');
    assert.ok(/^a\d+ BAD /.test(star.status) || star.untagged[0] === '* SEARCH', star.status);
    assert.deepEqual((await e.cmd('UID SEARCH UID 1:*')).untagged, ['* SEARCH']);
    e.destroy();
  });
});

describe('IMAP compliance: dates, sizes and header keys (RFC 9051 §6.4.4)', () => {
  it('BEFORE/ON/SINCE compare the internal date by day, as INTERNALDATE shows it', async () => {
    const shown = await c.cmd('FETCH 1 INTERNALDATE');
    assert.deepEqual(shown.untagged, ['* 1 FETCH (INTERNALDATE "04-Mar-2024 23:59:59 +0000")']);
    assert.deepEqual(await search('ON 4-Mar-2024'), found(1));
    assert.deepEqual(await search('BEFORE 5-Mar-2024'), found(1));
    assert.deepEqual(await search('SINCE 8-Mar-2024'), found(5));
    assert.deepEqual(await search('SINCE 6-Mar-2024 BEFORE 8-Mar-2024'), found(3, 4));
    assert.deepEqual(await search('ON 9-Mar-2024'), found());
  });

  it('SENTON/SENTBEFORE/SENTSINCE use the Date header, disregarding its time and zone (RFC 3501 §6.4.4)', async () => {
    assert.deepEqual(await search('SENTON 1-Jan-2002'), found(1));
    assert.deepEqual(await search('SENTON 2-Jan-2002'), found(2));
    assert.deepEqual(await search('SENTBEFORE 2-Jan-2002'), found(1));
    assert.deepEqual(await search('SENTSINCE 2-Jan-2002'), found(2));
  });

  it('messages without a Date header match no SENT* key', async () => {
    assert.deepEqual(await search('SENTSINCE 1-Jan-1970'), found(1, 2));
    assert.deepEqual(await search('NOT SENTBEFORE 1-Jan-3000'), found(3, 4, 5));
  });

  it('LARGER and SMALLER are strict bounds on RFC822.SIZE', async () => {
    const sizes = MESSAGES.map((m) => Buffer.byteLength(m));
    const s = sizes[2];
    assert.deepEqual(await search(`LARGER ${s}`), found(...sizes.flatMap((x, i) => (x > s ? [i + 1] : []))));
    assert.deepEqual(await search(`SMALLER ${s}`), found(...sizes.flatMap((x, i) => (x < s ? [i + 1] : []))));
    assert.deepEqual(await search(`LARGER ${s - 1} SMALLER ${s + 1}`), found(3));
    assert.deepEqual(await search('SMALLER 1'), found());
    assert.deepEqual(await search('LARGER 0'), found(1, 2, 3, 4, 5));
  });

  it('substring keys are case-insensitive, match decoded words and addresses, and an empty string matches all', async () => {
    assert.deepEqual(await search('SUBJECT hello'), found(1, 2));
    assert.deepEqual(await search('SUBJECT "HeLLo THERE"'), found(1));
    assert.deepEqual(await search('FROM EXAMPLE.ORG'), found(1, 4));
    assert.deepEqual(await search('FROM "eve q"'), found(4));
    assert.deepEqual(await search('CC bob'), found(3));
    assert.deepEqual(await search('TO alice@example.com'), found(2));
    assert.deepEqual(await search('CHARSET UTF-8 SUBJECT grüße'), found(4));
    assert.deepEqual(await search('SUBJECT ""'), found(1, 2, 3, 4, 5));
  });

  it('HEADER with an empty value matches every message that has the field (RFC 9051 §6.4.4)', async () => {
    assert.deepEqual(await search('HEADER Reply-To ""'), found(4));
    assert.deepEqual(await search('HEADER MESSAGE-ID ""'), found(5));
    assert.deepEqual(await search('HEADER Date ""'), found(1, 2));
    assert.deepEqual(await search('HEADER message-id m5@EXAMPLE'), found(5));
  });

  it('HEADER on any field name, not only those the index keeps (RFC 9051 §6.4.4)', async () => {
    assert.deepEqual(await search('HEADER X-Tag ""'), found(1));
    assert.deepEqual(await search('HEADER x-tag ONE'), found(1));
  });

  it('BODY and TEXT search the body (and TEXT the header too), case-insensitively (RFC 9051 §6.4.4)', async () => {
    assert.deepEqual(await search('BODY 4444'), found(4));
    assert.deepEqual(await search('TEXT "hello there"'), found(1));
    assert.deepEqual(await search('TEXT 55555'), found(5));
    assert.deepEqual(await search('NOT BODY 1'), found(2, 3, 4, 5));
  });
});
