/**
 * `admin export` and `admin import` as a user runs them (child processes against test storage): the files
 * are read by an independent reader (python3's mailbox module), an export imported into a fresh account
 * gives the same octets, flags and INTERNALDATEs, a re-run adds nothing, and an mbox that python wrote
 * imports with its flags.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { type AdminEmulator, adminEmulator, assertOk, runAdmin } from '../support/adminCli.ts';
import { accountMail, SAMPLE, seedAccount } from '../support/mailFiles.ts';
import { testEndpoints } from '../support/storage.ts';

const endpoints: AwsEndpoints = await testEndpoints();
let emulator: AdminEmulator;
const admin = (args: readonly string[]) => runAdmin(args, { dataDir: emulator.dataDir });

before(async () => {
  emulator = await adminEmulator(endpoints, 'postern-mailfiles-');
  await emulator.storage.directory.addDomain('example.com');
  await seedAccount(emulator.storage, 'alice@example.com', SAMPLE);
  for (const who of ['bob', 'carol', 'dave']) await seedAccount(emulator.storage, `${who}@example.com`, []);
});
after(() => emulator?.close());

function python(script: string, ...args: string[]): unknown {
  const run = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const READ_MBOX = `
import mailbox, sys, json
box = mailbox.mbox(sys.argv[1], create=False)
print(json.dumps([{"subject": m["subject"], "flags": m.get_flags(), "from": m.get_from()} for m in box]))
`;

const READ_MAILDIR = `
import mailbox, sys, json
root = mailbox.Maildir(sys.argv[1], factory=None, create=False)
def read(box):
    return sorted([{"subject": m["subject"], "flags": m.get_flags(), "date": int(m.get_date()), "subdir": m.get_subdir()} for m in box], key=lambda m: m["subject"])
print(json.dumps({"INBOX": read(root), **{f: read(root.get_folder(f)) for f in root.list_folders()}}))
`;

const flagLetters = (flags: readonly string[], letters: Record<string, string>) =>
  Object.entries(letters)
    .filter(([flag]) => flags.includes(flag))
    .map(([, l]) => l)
    .sort()
    .join('');

describe('admin export / import', () => {
  it('exports mboxrd files that python reads with the Status / X-Status flags and From_ dates', async () => {
    const out = join(emulator.dataDir, 'export-mbox');
    assertOk(await admin(['export', 'alice@example.com', '--out', out]));
    assert.equal(statSync(out).mode & 0o777, 0o700);
    assert.equal(statSync(join(out, 'INBOX.mbox')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(out).sort(), [
      'Archive.mbox',
      'Drafts.mbox',
      'INBOX.mbox',
      'Junk.mbox',
      'Lists',
      'Sent.mbox',
      'Trash.mbox',
    ]);
    for (const [name, messages] of Object.entries(groupByBox(SAMPLE))) {
      const read = python(READ_MBOX, join(out, `${name}.mbox`)) as { subject: string; flags: string; from: string }[];
      assert.equal(read.length, messages.length, name);
      for (const [i, m] of messages.entries()) {
        assert.equal(read[i].subject, m.subject);
        const expected = `${m.flags.includes('\\Seen') ? 'R' : ''}O${flagLetters(m.flags, { '\\Answered': 'A', '\\Flagged': 'F', '\\Draft': 'T', '\\Deleted': 'D' })}`;
        assert.equal([...read[i].flags].sort().join(''), [...expected].sort().join(''));
        assert.match(
          read[i].from,
          new RegExp(`${new Date(m.date).toUTCString().slice(17, 25)} ${new Date(m.date).getUTCFullYear()}$`),
        );
      }
    }
  });

  it('exports a Maildir++ tree that python reads with flags in cur/ and the INTERNALDATE as mtime', async () => {
    const out = join(emulator.dataDir, 'export-maildir');
    assertOk(await admin(['export', 'alice@example.com', '--out', out, '--format', 'maildir']));
    const read = python(READ_MAILDIR, out) as Record<
      string,
      { subject: string; flags: string; date: number; subdir: string }[]
    >;
    for (const [name, messages] of Object.entries(groupByBox(SAMPLE))) {
      const folder = name === 'INBOX' ? 'INBOX' : name.replace(/\//g, '.');
      const got = read[folder];
      assert.ok(got, `folder ${folder} in ${Object.keys(read)}`);
      const want = [...messages].sort((a, b) => (a.subject < b.subject ? -1 : 1));
      assert.equal(got.length, want.length);
      for (const [i, m] of want.entries()) {
        assert.equal(got[i].subject, m.subject);
        assert.equal(got[i].subdir, 'cur');
        assert.equal(got[i].date, Math.floor(m.date / 1000));
        const letters = flagLetters(m.flags, {
          '\\Draft': 'D',
          '\\Flagged': 'F',
          '\\Answered': 'R',
          '\\Seen': 'S',
          '\\Deleted': 'T',
        });
        assert.equal(got[i].flags.replace(/[a-z]/g, ''), letters);
        // keywords are dovecot-keywords letters after the system ones
        assert.equal(got[i].flags.replace(/[A-Z]/g, '').length, m.flags.filter((f) => !f.startsWith('\\')).length);
      }
    }
  });

  for (const [format, who] of [
    ['mbox', 'bob'],
    ['maildir', 'carol'],
  ] as const) {
    it(`${format}: export then import into a fresh account gives the same octets, flags and dates; a re-run adds nothing`, async () => {
      const out = join(emulator.dataDir, `round-${format}`);
      assertOk(await admin(['export', 'alice@example.com', '--out', out, '--format', format]));
      const lines = assertOk(await admin(['import', `${who}@example.com`, out]));
      assert.ok(lines.includes(`INBOX: ${groupByBox(SAMPLE).INBOX.length} added, 0 already there`), lines.join('\n'));
      // Maildir keeps no order: its import goes by mtime, so compare the mailboxes' contents as sets
      const mail = (address: string) => accountMail(emulator.storage, address, format === 'maildir');
      const source = await mail('alice@example.com');
      assert.deepEqual(await mail(`${who}@example.com`), source);
      const again = assertOk(await admin(['import', `${who}@example.com`, out, '--format', format]));
      assert.ok(again.includes(`INBOX: 0 added, ${groupByBox(SAMPLE).INBOX.length} already there`), again.join('\n'));
      assert.deepEqual(await mail(`${who}@example.com`), source);
    });
  }

  it('imports an mbox written by python (mboxo From quoting, Status / X-Status flags)', async () => {
    const file = join(emulator.dataDir, 'python.mbox');
    python(
      `
import mailbox, sys, json, email.message
box = mailbox.mbox(sys.argv[1])
for subject, flags in (("first", "RA"), ("second", "F")):
    m = mailbox.mboxMessage()
    m["Subject"] = subject
    m["From"] = "py@example.org"
    m.set_payload("From here on\\nplain text\\n")
    m.set_flags(flags)
    m.set_from("py@example.org", (2021, 3, 4, 5, 6, 7, 0, 0, 0))
    box.add(m)
box.close()
print("[]")
`,
      file,
    );
    const lines = assertOk(await admin(['import', 'dave@example.com', file, '--mailbox', 'Old/Python']));
    assert.deepEqual(lines[0], 'Old/Python: 2 added, 0 already there');
    const mail = await accountMail(emulator.storage, 'dave@example.com');
    const got = mail['Old/Python'];
    assert.equal(got.length, 2);
    assert.deepEqual(got[0].flags, ['\\Answered', '\\Seen']);
    assert.deepEqual(got[1].flags, ['\\Flagged']);
    assert.equal(got[0].internalDate, Date.UTC(2021, 2, 4, 5, 6, 7));
    assert.match(got[0].text, /\r\n\r\nFrom here on\r\nplain text\r\n$/);
    assert.doesNotMatch(got[0].text, /Status:/);
  });
});

function groupByBox(messages: typeof SAMPLE): Record<string, (typeof SAMPLE)[number][]> {
  const out: Record<string, (typeof SAMPLE)[number][]> = {};
  for (const m of messages) {
    out[m.mailbox] ??= [];
    out[m.mailbox].push(m);
  }
  return out;
}
