/**
 * A session in a big mailbox catches up from the change log and the modseq index (selected.ts newsSince)
 * instead of reading every index item after each change: what it tells must be exactly what the whole-index
 * comparison tells (RFC 9051 §7.5.1: FETCH FLAGS for flag changes, EXPUNGE when allowed, EXISTS for new mail).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MAX_ATOMIC_APPEND } from '../../lib/core/ports.ts';
import { INCREMENTAL_SYNC_FROM } from '../../lib/imap/selected.ts';
import { complianceServer } from './imap-compliance-support.ts';

const env = complianceServer();
const SIZE = INCREMENTAL_SYNC_FROM + 5;

/** A mailbox of SIZE messages sharing one blob, appended in atomic groups (quicker than SIZE deliveries). */
before(async () => {
  await env.ready();
  const { accountId } = env.account;
  const box = await env.storage.mail.createMailbox(accountId, 'Big');
  const text = Buffer.from('Subject: big\r\nFrom: x@example.com\r\n\r\nbody\r\n');
  await env.storage.blobs.put('messages/big-one', text);
  const input = { accountId, mailboxId: box.mailboxId, blobKey: 'messages/big-one', blobSize: text.length };
  for (let done = 0; done < SIZE; done += MAX_ATOMIC_APPEND) {
    const n = Math.min(MAX_ATOMIC_APPEND, SIZE - done);
    await env.storage.mail.appendAll(Array.from({ length: n }, () => input));
  }
});

describe('catching up in a big mailbox from the change log', () => {
  it('flag changes, an expunge and a new message made elsewhere are told as the whole-index comparison tells them', async () => {
    const a = await env.login();
    const b = await env.login();
    assert.match((await b.cmd('SELECT Big')).untagged.join('\n'), new RegExp(`\\* ${SIZE} EXISTS`));
    await a.cmd('SELECT Big');
    await a.cmd('STORE 5 +FLAGS.SILENT (\\Flagged)');
    await a.cmd('STORE 7 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await a.cmd('EXPUNGE')).untagged, ['* 7 EXPUNGE']);
    await a.cmd('STORE 900 +FLAGS.SILENT (\\Seen)');

    const fetch = await b.cmd('FETCH 5 (FLAGS)');
    assert.ok(fetch.untagged.includes('* 5 FETCH (FLAGS (\\Flagged))'), fetch.untagged.join('\n'));
    assert.ok(!fetch.untagged.some((l) => / EXPUNGE$/.test(l)), 'no EXPUNGE during FETCH (RFC 9051 §7.5.1)');
    const noop = await b.cmd('NOOP');
    assert.deepEqual(
      noop.untagged.filter((l) => / EXPUNGE$/.test(l)),
      ['* 7 EXPUNGE'],
    );
    // message 901 before the expunge is 900 now, in A's numbering and (after the EXPUNGE) in B's
    assert.ok(
      [...fetch.untagged, ...noop.untagged].some((l) => /^\* (900|901) FETCH \(FLAGS \(\\Seen\)\)$/.test(l)),
      [...fetch.untagged, ...noop.untagged].join('\n'),
    );

    const late = 'Subject: late\r\n\r\nlate\r\n';
    const appended = await a.cmd(`APPEND Big {${late.length}+}\r\n${late}`);
    assert.match(appended.status, /OK/);
    const after = await b.cmd('NOOP');
    assert.ok(after.untagged.includes(`* ${SIZE} EXISTS`), after.untagged.join('\n'));
    const last = await b.cmd(`FETCH ${SIZE} (UID FLAGS)`);
    assert.match(last.untagged.join('\n'), new RegExp(`^\\* ${SIZE} FETCH \\(UID ${SIZE + 1} FLAGS \\(\\)\\)`, 'm'));
    a.destroy();
    b.destroy();
  });
});
