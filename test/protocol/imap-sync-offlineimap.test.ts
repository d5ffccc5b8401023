/**
 * offlineimap (Debian's offlineimap3, on imaplib2) against a whole gateway over IMAPS, verifying the
 * gateway's certificate, with a generated ~/.offlineimaprc in a scratch HOME: mail delivered over SMTP is
 * synced both ways with a local Maildir. The first run downloads every mailbox byte for byte with the UIDs
 * POP3 reports; then flags change on both sides, a message moves on each side, one is deleted locally, a
 * folder tree is created locally and a "sent" message is uploaded (APPEND, UIDPLUS); a third run changes
 * nothing. offlineimap's log says what it did; a second client (the raw ImapClient, EXAMINE only) says what
 * the server holds.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertChangesMet,
  assertSameBytes,
  changeLocally,
  changeOnServer,
  deliverOverSmtp,
  lf,
  maildirMessages,
  makeMaildir,
  messageSet,
  popInbox,
  readTree,
  STORY_SUBJECTS,
  serverState,
  startSyncWorld,
  subjectOf,
} from './imap-sync-support.ts';
import { run } from './pop3-support.ts';

const { tg, dir, certFile } = await startSyncWorld('offlineimap');
const user = 'offlineimap@ours.test';
const pass = 'pw offlineimap';
await tg.addAccount(user, pass);
const home = join(dir, 'home');
const mail = join(dir, 'Mail');
const meta = join(dir, 'meta');
mkdirSync(home);
writeFileSync(
  join(home, '.offlineimaprc'),
  [
    '[general]',
    'accounts = gateway',
    `metadata = ${meta}`,
    '',
    '[Account gateway]',
    'localrepository = local',
    'remoterepository = remote',
    // folder names in UTF-8 on disk, modified UTF-7 on the wire (RFC 3501 §5.1.3)
    'utf8foldernames = yes',
    '',
    '[Repository local]',
    'type = Maildir',
    `localfolders = ${mail}`,
    '',
    '[Repository remote]',
    'type = IMAP',
    // imaplib2 matches the certificate's DNS names only (not its IP address): localhost, which is 127.0.0.1
    'remotehost = localhost',
    `remoteport = ${tg.port('imaps')}`,
    'ssl = yes',
    `sslcacertfile = ${certFile}`,
    `remoteuser = ${user}`,
    `remotepass = ${pass}`,
    '',
  ].join('\n'),
);

/** One `offlineimap -o` run (basic UI): its log lines, after checking it exited cleanly without errors. */
async function offlineimap(): Promise<string[]> {
  const r = await run('env', ['-i', `HOME=${home}`, `PATH=${process.env.PATH}`, 'offlineimap', '-o', '-u', 'basic']);
  const log = `${r.stdout.toString()}${r.stderr}`;
  assert.equal(r.code, 0, `offlineimap failed:\n${log}`);
  assert.doesNotMatch(log, /ERROR|WARNING|Traceback/, log);
  return log.split('\n').filter(Boolean);
}

/** The log lines that change something: copies, flag changes, deletions, folder creations. */
const actions = (log: string[]) =>
  log.filter((l) => /^(Copy message|Adding flag|Removing flag|Deleting|Creating folder)/.test(l));

const state = () => serverState(tg.port('imaps'), user, pass);

describe('offlineimap syncs a Maildir with the gateway both ways', () => {
  const delivered = messageSet(user, STORY_SUBJECTS);
  const noteMessage = Buffer.from('From: offlineimap@ours.test\r\nSubject: a note\r\n\r\nfiled away\r\n');
  const sentMessage = Buffer.from(
    'From: offlineimap@ours.test\r\nTo: friend@example.org\r\nSubject: sent from the Maildir\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nWritten offline.\r\n',
  );

  it('first run: every mailbox, each message byte-exact with the UID and UIDVALIDITY POP3 reports (RFC 9051 §2.3.1.1)', async () => {
    await deliverOverSmtp(tg, user, delivered);
    const pop = await popInbox(tg.port('pop3'), user, pass);
    assert.equal(pop.size, 5);

    const log = await offlineimap();
    const copies = actions(log).filter((l) => l.startsWith('Copy message'));
    assert.equal(copies.length, 5, log.join('\n'));
    assert.ok(copies.every((l) => l.endsWith('remote:INBOX -> local:INBOX')));

    const server = await state();
    assert.deepEqual([...server.keys()], ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    assert.deepEqual(readdirSync(mail).sort(), [...server.keys()]);

    // offlineimap names each file with the server's UID (",U=n") and keeps the folder's UIDVALIDITY
    const uidValidity = readFileSync(join(meta, 'Repository-remote/FolderValidity/INBOX'), 'latin1').trim();
    const local = maildirMessages(join(mail, 'INBOX'));
    assert.equal(local.size, 5);
    for (const [name, bytes] of local) {
      const uidl = `${uidValidity}.${/,U=(\d+)/.exec(name)?.[1]}`;
      const popped = pop.get(uidl);
      assert.ok(popped, `POP3 has no UIDL ${uidl} for ${name} (UIDLs: ${[...pop.keys()].join(' ')})`);
      // offlineimap stores messages with the Maildir's native LF line ends and adds nothing
      assertSameBytes(bytes, lf(popped), `${name} (POP3 UIDL ${uidl})`);
    }
    assert.deepEqual([...local.values()].map(subjectOf).sort(), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
  });

  it('second run: flags, moves and a delete on both sides, a new folder tree and an uploaded sent message meet (RFC 4315 APPENDUID)', async () => {
    // offlineimap names files ",U=uid,FMD5=folder hash": a file moved to another folder loses that part;
    // its Maildir separator is "." where the server's is "/"
    changeLocally(mail, { stripId: /,U=.*(?=:2,)/, folders: ['Projects', 'Projects.2026'], sentMessage });
    // a non-ASCII name with a "&", which modified UTF-7 must escape as "&-"
    makeMaildir(join(mail, 'Brief&Köln'));
    writeFileSync(join(mail, 'Brief&Köln/new/1780308006.M2P1.client'), lf(noteMessage));
    const before = await changeOnServer(tg, user, pass);

    const log = actions(await offlineimap());
    const has = (re: RegExp) =>
      assert.ok(
        log.some((l) => re.test(l)),
        `no ${re} in:\n${log.join('\n')}`,
      );
    has(/^Creating folder Projects\[remote\]/);
    has(/^Creating folder Projects\/2026\[remote\]/);
    has(/^Creating folder Brief&Köln\[remote\]/);
    has(/^Copy message UID -1 \(1\/1\) local:Archive -> remote:Archive$/);
    has(/^Copy message UID -1 \(1\/1\) local:Sent -> remote:Sent$/);
    has(/^Copy message UID \d+ \(1\/1\) remote:Archive -> local:Archive$/);
    has(/^Copy message UID \d+ \(1\/1\) remote:INBOX -> local:INBOX$/);

    const server = await assertChangesMet(
      tg,
      { user, pass, mail },
      {
        before,
        sentMessage,
        mailboxes: [
          'Archive',
          'Brief&-K&APY-ln',
          'Drafts',
          'INBOX',
          'Junk',
          'Projects',
          'Projects/2026',
          'Sent',
          'Trash',
        ],
        // offlineimap adds nothing: its X-OfflineIMAP header goes only where the server tells no new UID
        stored: (b: Buffer) => b,
      },
    );
    assertSameBytes(server.get('Brief&-K&APY-ln')?.messages[0]?.bytes, noteMessage, 'the note in Brief&Köln');
    // the uploaded file was renamed with the UID the APPENDUID response gave
    assert.deepEqual(
      [...maildirMessages(join(mail, 'Sent')).keys()].map((n) => /,U=(\d+)/.exec(n)?.[1]),
      [String(server.get('Sent')!.messages[0].uid)],
    );
  });

  it('third run changes nothing on either side (no actions logged, same HIGHESTMODSEQ and UIDNEXT everywhere)', async () => {
    const serverBefore = await state();
    const localBefore = readTree(mail);
    assert.deepEqual(actions(await offlineimap()), []);
    assert.deepEqual(readTree(mail), localBefore);
    assert.deepEqual(await state(), serverBefore);
  });
});
