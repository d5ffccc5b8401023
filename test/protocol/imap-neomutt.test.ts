/**
 * NeoMutt (Debian's neomutt) against a whole gateway, driven without a human: it runs on a pseudo-terminal
 * (python3's pty module; TERM=xterm, the C.UTF-8 locale) with its keys queued by `-e 'push ...'`, so it
 * works through them and quits. Its side effects say what it saw: messages piped to files and copied to a
 * local Maildir (byte-exact with POP3), and the server state read by a second client afterwards.
 * Over IMAPS: open INBOX, copy all, read one, flag one, delete one and expunge, save one to Archive. Over
 * STARTTLS on the plain port: list the mailboxes in the folder browser, find Archive there and read it;
 * copy a message from a local Maildir to Drafts (APPEND). With its header cache and CONDSTORE: reopen INBOX
 * and see flags another session changed (FETCH CHANGEDSINCE).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertSameBytes,
  bySubject,
  deliverOverSmtp,
  lf,
  maildirMessages,
  messageSet,
  onServer,
  popInbox,
  readTree,
  runOnPty,
  serverState,
  startSyncWorld,
  subjectOf,
} from './imap-sync-support.ts';

const { tg, dir, certFile } = await startSyncWorld('neomutt');
const user = 'neomutt@ours.test';
const pass = 'pw neomutt';
await tg.addAccount(user, pass);

/** A muttrc for one way in: implicit TLS (imaps) or STARTTLS on the plain port (imap, TLS required). */
function muttrc(name: string, url: string, extra: string[] = []): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      `set folder="${url}"`,
      'set spoolfile="+INBOX"',
      `set imap_pass="${pass}"`,
      // the gateway's self-signed certificate is the trust anchor; the host name checked is localhost
      `set ssl_ca_certificates_file="${certFile}"`,
      'set header_cache="" message_cachedir="" mailcap_path=""',
      // no pause after each progress message
      'set sleep_time=0',
      // no questions: copy into new local Maildirs, purge deleted messages on sync, quit without asking,
      // no "press a key" after a pipe, read messages stay where they are
      'set mbox_type=Maildir confirmappend=no confirmcreate=no delete=yes quit=yes wait_key=no move=no mark_old=no',
      ...extra,
      '',
    ].join('\n'),
  );
  return file;
}
const account = encodeURIComponent(user);
const overImaps = muttrc('imaps.muttrc', `imaps://${account}@localhost:${tg.port('imaps')}/`);
const overStarttls = muttrc('starttls.muttrc', `imap://${account}@localhost:${tg.port('imap')}/`, [
  'set ssl_starttls=yes ssl_force_tls=yes',
]);

/** Runs neomutt with `keys` pushed; it must end by itself (the keys end with <quit> or <exit>). */
async function neomutt(rc: string, keys: string, options: string[] = []): Promise<string> {
  const r = await runOnPty(['neomutt', '-n', '-F', rc, ...options, '-e', `push "${keys}"`], {
    HOME: dir,
    TERM: 'xterm',
    LC_ALL: 'C.UTF-8',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  });
  assert.equal(r.code, 0, `neomutt did not finish its keys (exit ${r.code}):\n${r.out.slice(-2000)}`);
  return r.out;
}

/** NeoMutt adds these when it copies a message into a local mailbox; everything else must be the server's. */
const withoutLengthHeaders = (b: Buffer) =>
  Buffer.from(b.toString('latin1').replace(/^(Content-Length|Lines): \d+\n/gm, ''), 'latin1');

const state = () => serverState(tg.port('imaps'), user, pass);

describe('NeoMutt in batch mode', () => {
  const local = join(dir, 'copied');
  const piped = (name: string) => join(dir, `${name}.eml`);

  it('over IMAPS: opens INBOX, copies and reads byte-exact, flags, deletes and expunges, saves to Archive (RFC 9051 §6.4.3, §6.4.6, §6.4.7)', async () => {
    await deliverOverSmtp(tg, user, messageSet(user, ['alpha', 'bravo', 'charlie', 'delta']));
    const pop = await popInbox(tg.port('pop3'), user, pass);
    const popBySubject = new Map([...pop.values()].map((b) => [subjectOf(b), b] as const));
    const before = await state();
    const inboxBefore = bySubject(before.get('INBOX'));

    await neomutt(
      overImaps,
      [
        `<tag-pattern>~A<enter><tag-prefix><copy-message>${local}<enter><untag-pattern>~A<enter>`,
        `<limit>~s alpha<enter><pipe-message>cat > ${piped('alpha')}<enter><display-message><exit>`,
        '<limit>~s bravo<enter><flag-message>',
        '<limit>~s charlie<enter><delete-message>',
        '<limit>~s delta<enter><save-message><kill-line>=Archive<enter>',
        '<limit>~A<enter><sync-mailbox><quit>',
      ].join(''),
    );

    // what it read: each message as POP3 gives it (neomutt keeps messages with LF line ends)
    const copies = [...maildirMessages(local).values()];
    assert.deepEqual(copies.map(subjectOf).sort(), ['alpha', 'bravo', 'charlie', 'delta']);
    for (const copy of copies) {
      const subject = subjectOf(copy);
      assertSameBytes(withoutLengthHeaders(copy), lf(popBySubject.get(subject)!), `${subject} copied by neomutt`);
    }
    assertSameBytes(readTree(dir).get('alpha.eml'), lf(popBySubject.get('alpha')!), 'alpha piped by neomutt');

    // what it changed: alpha read (\Seen by the BODY[] fetch or a STORE), bravo flagged, charlie expunged,
    // delta moved to Archive; nothing else, and the UIDs stay those POP3 reports
    const after = await state();
    const inbox = bySubject(after.get('INBOX'));
    assert.deepEqual([...inbox.keys()].sort(), ['alpha', 'bravo']);
    assert.deepEqual(inbox.get('alpha')?.flags, ['\\Seen']);
    assert.deepEqual(inbox.get('bravo')?.flags, ['\\Flagged']);
    const uidValidity = after.get('INBOX')?.status.UIDVALIDITY;
    for (const name of ['alpha', 'bravo']) {
      assert.equal(inbox.get(name)?.uid, inboxBefore.get(name)?.uid);
      assertSameBytes(pop.get(`${uidValidity}.${inbox.get(name)?.uid}`), inbox.get(name)!.bytes, `${name} UID`);
    }
    assert.equal(after.get('INBOX')?.status.UIDNEXT, before.get('INBOX')?.status.UIDNEXT);
    const archive = after.get('Archive')?.messages ?? [];
    assert.equal(archive.length, 1);
    assertSameBytes(archive[0].bytes, inboxBefore.get('delta')!.bytes, 'delta saved to Archive');
    for (const name of ['Drafts', 'Junk', 'Sent', 'Trash']) assert.deepEqual(after.get(name), before.get(name));
  });

  it('over STARTTLS: the folder browser lists the mailboxes (LIST), Archive is found there and read (RFC 9051 §6.3.9)', async () => {
    const before = await state();
    await neomutt(
      overStarttls,
      `<change-folder>?<toggle-mailboxes><search>^Archive<enter><select-entry><pipe-message>cat > ${piped('delta')}<enter><exit>`,
    );
    // had the browser not listed Archive, the search would fail and the first entry (INBOX) would open
    assertSameBytes(
      readTree(dir).get('delta.eml'),
      lf(before.get('Archive')!.messages[0].bytes),
      'delta read from Archive',
    );
    assert.deepEqual(await state(), before, 'reading with <exit> changes nothing');
  });

  it('copies a message from a local Maildir to the server: APPEND with its date (RFC 9051 §6.3.12)', async () => {
    const alpha = bySubject((await state()).get('INBOX')).get('alpha')!;
    const log = join(dir, 'append.log');
    await neomutt(overStarttls, '<tag-pattern>~s alpha<enter><tag-prefix><copy-message>=Drafts<enter><exit>', [
      '-f',
      local,
      '-d',
      '2',
      '-l',
      log,
    ]);
    const sentDate = /APPEND "Drafts" \([^)]*\) "([^"]+)"/.exec(readFileSync(`${log}0`, 'latin1'))?.[1];
    assert.ok(sentDate, 'no APPEND with a date-time in the log');
    const drafts = (await state()).get('Drafts')?.messages ?? [];
    assert.equal(drafts.length, 1);
    // the local copy (NeoMutt's own Content-Length and Lines aside) with CRLF line ends again
    assert.doesNotMatch(drafts[0].bytes.toString('latin1'), /[^\r]\n/, 'bare LF on the wire');
    assertSameBytes(withoutLengthHeaders(lf(drafts[0].bytes)), lf(alpha.bytes), 'alpha appended to Drafts');
    // the server keeps the date-time the APPEND gave as INTERNALDATE
    assert.equal(drafts[0].internalDate, sentDate);
  });

  it('with its header cache and CONDSTORE: reopening INBOX learns flags changed elsewhere via CHANGEDSINCE (RFC 7162 §3.1.4.1)', async () => {
    const log = join(dir, 'neomutt.log');
    const cached = muttrc('cached.muttrc', `imaps://${account}@localhost:${tg.port('imaps')}/`, [
      `set header_cache="${join(dir, 'hcache')}" imap_condstore=yes`,
    ]);
    await neomutt(cached, '<exit>');
    const inbox = bySubject((await state()).get('INBOX'));
    assert.deepEqual(inbox.get('bravo')?.flags, ['\\Flagged']);
    await onServer(tg.port('imaps'), user, pass, 'INBOX', [
      `UID STORE ${inbox.get('alpha')!.uid} +FLAGS (\\Flagged)`,
      `UID STORE ${inbox.get('bravo')!.uid} -FLAGS (\\Flagged)`,
    ]);
    // debug level 2 logs the IMAP commands: the reopening asks for changes only
    await neomutt(cached, `<limit>~F<enter><pipe-message>cat > ${piped('flagged')}<enter><exit>`, [
      '-d',
      '2',
      '-l',
      log,
    ]);
    assert.match(readFileSync(`${log}0`, 'latin1'), /UID FETCH \S+ \(FLAGS\) \(CHANGEDSINCE \d+\)/);
    // with a stale cache it would have piped bravo, flagged when cached
    assertSameBytes(readTree(dir).get('flagged.eml'), lf(inbox.get('alpha')!.bytes), 'the flagged message');
  });
});
