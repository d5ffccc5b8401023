/**
 * The emulator's outbox transport and `npm run admin -- outbox list|show`: messages kept as files (0700
 * directory, 0600 files, written through a rename), the envelope as JSON beside each, 250 for every
 * recipient; the CLI run as a user runs it, a child process finding the outbox through POSTERN_DATA_DIR.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OutboxTransport, outboxDir } from '../../lib/outbound/transports/outbox.ts';
import { envelope, MESSAGE, openMessage } from '../support/outbound.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'postern-outbox-'));
const dir = outboxDir(dataDir);
after(() => rmSync(dataDir, { recursive: true, force: true }));

const execAdmin = promisify(execFile);

/** The CLI as a child process: its exit code and what it printed. */
async function admin(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const options = { cwd: ROOT, env: { ...process.env, POSTERN_DATA_DIR: dataDir } };
  try {
    return { code: 0, ...(await execAdmin(process.execPath, ['--import', 'tsx', 'local/admin.ts', ...args], options)) };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;
let firstId = '';

describe('outbox transport', () => {
  it('an empty outbox lists as empty', async () => {
    const run = await admin(['outbox', 'list']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /the outbox is empty/);
  });

  it('keeps the message and its envelope, 0600 in a 0700 directory, and answers 250 for everyone', async () => {
    const t = new OutboxTransport(dir);
    const outcomes = await t.deliver(
      envelope(['bob@remote.test', 'carol@remote.test'], {
        dsn: { ret: 'HDRS', recipients: { 'bob@remote.test': { notify: ['SUCCESS'] } } },
      }),
      openMessage,
      MESSAGE.length,
    );
    assert.deepEqual(
      outcomes.map((o) => [o.address, o.result]),
      [
        ['bob@remote.test', 'delivered'],
        ['carol@remote.test', 'delivered'],
      ],
    );
    firstId = /kept in the outbox as ([0-9A-Z]{26})/.exec(outcomes[0].reply)?.[1] ?? '';
    assert.match(outcomes[0].reply, /^250 2\.0\.0 /);
    assert.equal(mode(dir), 0o700);
    assert.deepEqual(readdirSync(dir).sort(), [`${firstId}.eml`, `${firstId}.json`]);
    assert.equal(mode(join(dir, `${firstId}.eml`)), 0o600);
    assert.equal(mode(join(dir, `${firstId}.json`)), 0o600);
    assert.deepEqual(readFileSync(join(dir, `${firstId}.eml`)), MESSAGE);
    const kept = JSON.parse(readFileSync(join(dir, `${firstId}.json`), 'utf8'));
    assert.equal(kept.mailFrom, 'alice@ours.test');
    assert.deepEqual(kept.recipients, ['bob@remote.test', 'carol@remote.test']);
    assert.equal(kept.size, MESSAGE.length);
    assert.deepEqual(kept.dsn.recipients['bob@remote.test'].notify, ['SUCCESS']);
  });

  it('a message that cannot be read leaves nothing behind and is deferred (never a 250 for what is not kept)', async () => {
    const t = new OutboxTransport(dir);
    const broken = async () =>
      new Readable({
        read() {
          this.destroy(new Error('blob read failed'));
        },
      });
    const [o] = await t.deliver(envelope(['bob@remote.test']), broken, 10);
    assert.equal(o.result, 'deferred');
    assert.match(o.reply, /^451 4\.3\.0 .*blob read failed/);
    assert.equal(readdirSync(dir).length, 2, readdirSync(dir).join(' '));
  });
});

describe('admin outbox', () => {
  it('list shows each kept message: id, time, envelope, size, subject', async () => {
    const t = new OutboxTransport(dir);
    const hostile = Buffer.from('Subject: \x1b[31mred\x1b[0m alert\r\n\r\nbody \x1b]0;title\x07\r\n');
    await t.deliver(
      envelope(['dave@remote.test'], { mailFrom: '' }),
      async () => Readable.from([hostile]),
      hostile.length,
    );
    const run = await admin(['outbox', 'list']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      new RegExp(
        `^${firstId}  \\S+Z  alice@ours.test -> bob@remote.test, carol@remote.test  ${MESSAGE.length} bytes  outbound$`,
      ),
    );
    assert.match(lines[1], / {2}<> -> dave@remote.test {2}\d+ bytes {2}\\x1b\[31mred\\x1b\[0m alert$/);
    assert.doesNotMatch(run.stdout, /\x1b/, 'control characters are escaped');
  });

  it('show prints the envelope, then the message', async () => {
    const run = await admin(['outbox', 'show', firstId]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^id: ${firstId}\nkept: \\S+\nfrom: alice@ours.test\nto: bob@remote.test, carol@remote.test\ndsn: `),
    );
    assert.ok(
      run.stdout.includes(
        '\n\nFrom: alice@ours.test\nTo: bob@remote.test\nSubject: outbound\n\n.a line starting with a dot\nbody\n',
      ),
    );
  });

  it('refuses an id that is not one, an unknown id, --aws, and stray arguments (exit 2)', async () => {
    for (const args of [
      ['outbox', 'show', '../../etc/passwd'],
      ['outbox', 'show', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
      ['outbox', 'list', '--aws'],
      ['outbox', 'list', 'extra'],
      ['outbox', 'show'],
      ['outbox', 'burn'],
    ]) {
      const run = await admin(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /^postern-admin: /);
    }
  });

  it('help lists the outbox commands', async () => {
    const run = await admin(['help']);
    assert.match(run.stdout, /outbox list/);
    assert.match(run.stdout, /outbox show <id>/);
  });
});
