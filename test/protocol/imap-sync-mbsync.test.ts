/**
 * mbsync (Debian's isync) against a whole gateway over IMAPS, verifying the gateway's certificate: mail
 * delivered over SMTP is synced both ways with a local Maildir. The first sync downloads every mailbox byte
 * for byte with the UIDs POP3 reports; then flags change on both sides, a message moves on each side, one is
 * deleted locally, a folder tree is created locally and a "sent" message is uploaded (APPEND, UIDPLUS); a
 * third sync changes nothing. mbsync's counters (printed only on a terminal) say what it did; a second
 * client (the raw ImapClient, EXAMINE only) says what the server holds. Folder names stay ASCII here:
 * mbsync 1.4 sends names unencoded and takes LIST's modified UTF-7 literally (offlineimap's test covers
 * non-ASCII names).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertChangesMet,
  assertSameBytes,
  bySubject,
  changeLocally,
  changeOnServer,
  deliverOverSmtp,
  lf,
  listMailboxes,
  maildirMessages,
  makeMaildir,
  messageSet,
  popInbox,
  readTree,
  runOnPty,
  STORY_SUBJECTS,
  serverState,
  startSyncWorld,
  subjectOf,
} from './imap-sync-support.ts';

const { tg, dir, certFile } = await startSyncWorld('mbsync');
const user = 'mbsync@ours.test';
const pass = 'pw mbsync';
await tg.addAccount(user, pass);
const mail = join(dir, 'Mail');
mkdirSync(mail);
const rc = join(dir, 'mbsyncrc');
writeFileSync(
  rc,
  [
    'IMAPAccount gateway',
    'Host 127.0.0.1',
    `Port ${tg.port('imaps')}`,
    `User ${user}`,
    `Pass "${pass}"`,
    'SSLType IMAPS',
    // the gateway's self-signed certificate is the only trust anchor: mbsync verifies chain and host (IP SAN)
    `CertificateFile ${certFile}`,
    '',
    'IMAPStore remote',
    'Account gateway',
    '',
    'MaildirStore local',
    `Path ${mail}/`,
    `Inbox ${mail}/INBOX`,
    'SubFolders Verbatim',
    '',
    'Channel sync',
    'Far :remote:',
    'Near :local:',
    'Patterns *',
    'Create Both',
    'Expunge Both',
    'SyncState *',
    'CopyArrivalDate yes',
    '',
  ].join('\n'),
);

interface Counters {
  channels: number;
  boxes: number;
  /** Added, flag-updated and trashed messages on the far (server) and near (Maildir) side. */
  far: [number, number, number];
  near: [number, number, number];
}

/** Runs mbsync -a on a terminal (it prints its counters only there) and reads the final counters line. */
async function mbsync(): Promise<Counters> {
  const r = await runOnPty(['mbsync', '-c', rc, '-a'], { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir });
  assert.equal(r.code, 0, `mbsync failed:\n${r.out}`);
  const all = [
    ...r.out.matchAll(
      /C: (\d+)\/(\d+)\s+B: (\d+)\/(\d+)\s+F: \+(\d+)\/(\d+) \*(\d+)\/(\d+) #(\d+)\/(\d+)\s+N: \+(\d+)\/(\d+) \*(\d+)\/(\d+) #(\d+)\/(\d+)/g,
    ),
  ];
  const last = all.at(-1);
  assert.ok(last, `no counters in mbsync's output:\n${r.out}`);
  const n = last.slice(1).map(Number);
  // each counter is done/total: everything mbsync planned was done
  for (let i = 0; i < n.length; i += 2) assert.equal(n[i], n[i + 1], `unfinished work in ${last[0]}`);
  return { channels: n[0], boxes: n[2], far: [n[4], n[6], n[8]], near: [n[10], n[12], n[14]] };
}

/**
 * mbsync writes an `X-TUID` header into each message it copies to the other side (a temporary id to find
 * it again after an interrupted sync); the rest must be the other side's bytes.
 */
const withoutTuid = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/^X-TUID: \S+\r?\n/m, ''), 'latin1');
const state = () => serverState(tg.port('imaps'), user, pass);

describe('mbsync (isync) syncs a Maildir with the gateway both ways', () => {
  const delivered = messageSet(user, STORY_SUBJECTS);
  const sentMessage = Buffer.from(
    'From: mbsync@ours.test\r\nTo: friend@example.org\r\nSubject: sent from the Maildir\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nWritten offline.\r\n',
  );
  const sentAt = new Date('2026-06-01T10:00:05Z');

  it('first sync: every mailbox, each message byte-exact with the UID and UIDVALIDITY POP3 reports (RFC 9051 §2.3.1.1)', async () => {
    await deliverOverSmtp(tg, user, delivered);
    const pop = await popInbox(tg.port('pop3'), user, pass);
    assert.equal(pop.size, 5);

    const counters = await mbsync();
    assert.deepEqual(counters, { channels: 1, boxes: 6, far: [0, 0, 0], near: [5, 0, 0] });

    const server = await state();
    assert.deepEqual([...server.keys()], ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    for (const name of server.keys()) assert.ok(maildirMessages(join(mail, name)), `no local folder ${name}`);

    // mbsync's state file pairs the far (server) UID with the near UID in the file name (",U=n")
    const syncState = readFileSync(join(mail, 'INBOX/.mbsyncstate'), 'latin1');
    const uidValidity = /^FarUidValidity (\d+)$/m.exec(syncState)?.[1];
    const farOf = new Map([...syncState.matchAll(/^(\d+) (\d+)/gm)].map((m) => [m[2], m[1]] as const));
    const local = maildirMessages(join(mail, 'INBOX'));
    assert.equal(local.size, 5);
    for (const [name, bytes] of local) {
      const near = /,U=(\d+)/.exec(name)?.[1] ?? '';
      const uidl = `${uidValidity}.${farOf.get(near)}`;
      const popped = pop.get(uidl);
      assert.ok(popped, `POP3 has no UIDL ${uidl} for ${name} (UIDLs: ${[...pop.keys()].join(' ')})`);
      // mbsync stores messages with the Maildir's native LF line ends
      assertSameBytes(withoutTuid(bytes), lf(popped), `${name} (POP3 UIDL ${uidl})`);
    }
    assert.deepEqual([...local.values()].map(subjectOf).sort(), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
  });

  it('second sync: flags, moves and a delete on both sides, a new folder tree and an uploaded sent message meet (RFC 4315 APPENDUID)', async () => {
    // mbsync wants the ",U=" of the old folder gone from a file moved to another folder
    const sentFile = changeLocally(mail, {
      stripId: /,U=\d+/,
      folders: ['Projects', 'Projects/2026'],
      sentMessage,
    });
    utimesSync(sentFile, sentAt, sentAt);
    const before = await changeOnServer(tg, user, pass);

    const counters = await mbsync();
    // far: echo (Archive) and the sent message added; flags stored for alpha and, as \Deleted before the
    // expunge, for delta and echo. near: charlie (Archive) and foxtrot added; bravo's flags, charlie's removal
    // from INBOX. (`#` counts moves to a Trash store, which this channel has not.)
    assert.deepEqual(counters, { channels: 1, boxes: 8, far: [2, 3, 0], near: [2, 2, 0] });

    const server = await assertChangesMet(
      tg,
      { user, pass, mail },
      {
        before,
        sentMessage,
        mailboxes: ['Archive', 'Drafts', 'INBOX', 'Junk', 'Projects', 'Projects/2026', 'Sent', 'Trash'],
        stored: withoutTuid,
      },
    );
    assert.match(bySubject(server.get('Archive')).get('echo')!.bytes.toString('latin1'), /\r\nX-TUID: \S+\r\n/);
    const sent = server.get('Sent')!.messages[0];
    // CopyArrivalDate: the APPEND date-time is the file's time (RFC 9051 §6.3.12)
    assert.equal(sent.internalDate, '01-Jun-2026 10:00:05 +0000');
    // the UIDs mbsync recorded are the server's (APPENDUID): the state file names Sent's UID 1
    assert.match(readFileSync(join(mail, 'Sent/.mbsyncstate'), 'latin1'), new RegExp(`^${sent.uid} 1 S$`, 'm'));
  });

  it('third sync changes nothing on either side (no counters move, same HIGHESTMODSEQ and UIDNEXT everywhere)', async () => {
    const serverBefore = await state();
    const localBefore = readTree(mail);
    const counters = await mbsync();
    assert.deepEqual(counters, { channels: 1, boxes: 8, far: [0, 0, 0], near: [0, 0, 0] });
    assert.deepEqual(readTree(mail), localBefore);
    assert.deepEqual(await state(), serverBefore);
  });

  it('a folder made deep down locally: the server creates its superiors too (RFC 3501 §6.3.3, RFC 9051 §6.3.4 SHOULD)', async () => {
    // only the leaf is a Maildir: mbsync sends CREATE "Deep/Er/Leaf" alone
    makeMaildir(join(mail, 'Deep/Er/Leaf'));
    await mbsync();
    const boxes = await listMailboxes(tg.port('imaps'), user, pass);
    assert.ok(boxes.has('Deep/Er/Leaf'));
    for (const name of ['Deep', 'Deep/Er']) {
      assert.deepEqual(
        boxes.get(name)?.filter((a) => a === '\\Noselect' || a === '\\NonExistent'),
        [],
        `${name}: ${boxes.get(name)}`,
      );
    }
  });
});
