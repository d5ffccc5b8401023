/**
 * `npm run admin -- queue list|show|retry|delete` over the real queue (DynamoDB Local): the command functions
 * through runCommand (argument checks, the option table, the switch), and the CLI itself once as a child.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseArgs } from '../../lib/admin/args.ts';
import { type CommandContext, runCommand, USAGE } from '../../lib/admin/commands.ts';
import { writeEmulatorState } from '../../local/state.ts';
import { entryInput, type QueueFixture, queueFixture } from '../contract/outbound-queue-support.ts';

let f: QueueFixture;
let ctx: CommandContext;
const run = (...argv: string[]) => runCommand(parseArgs(argv), ctx);

before(async () => {
  f = await queueFixture();
  ctx = {
    storage: async () => ({ ...f.storage, queue: f.queue }),
    readPassword: async () => 'unused',
    readSecret: async () => 'unused',
    dkimKeys: async () => {
      throw new Error('the queue commands open no DKIM keys');
    },
    env: {},
  };
});

describe('admin queue', () => {
  it('lists pending entries first, shows one with each recipient and its last reply', async () => {
    assert.deepEqual(await run('queue', 'list'), ['queue is empty']);
    const done = entryInput('done.example', ['x']);
    const waiting = entryInput('wait.example', ['a', 'b'], { envId: 'ENV7', mailFrom: '' });
    await f.queue.enqueue([done, waiting], 'admin-1');
    await f.queue.claim(done.id, 'r', f.now() + 60_000);
    await f.queue.complete(done.id, 'r', {
      at: f.now(),
      nextAttemptAt: f.now(),
      outcomes: [
        { address: 'x@done.example', result: 'delivered', reply: '250 2.0.0 ok', remoteMta: 'mx.done.example' },
      ],
    });
    await f.queue.claim(waiting.id, 'r', f.now() + 60_000);
    await f.queue.complete(waiting.id, 'r', {
      at: f.now(),
      nextAttemptAt: f.now() + 3_600_000,
      outcomes: [
        { address: 'a@wait.example', result: 'deferred', reply: '451 4.7.1 greylisted' },
        { address: 'b@wait.example', result: 'failed', reply: '550 5.1.1 unknown' },
      ],
    });
    const list = await run('queue', 'list');
    assert.equal(list.length, 2);
    assert.match(
      list[0],
      new RegExp(`^${waiting.id}  wait\\.example  from <>  pending=1 delivered=0 failed=1  attempts=1  next `),
    );
    assert.match(
      list[1],
      new RegExp(
        `^${done.id}  done\\.example  from alice@example\\.org  pending=0 delivered=1 failed=0  attempts=1  done `,
      ),
    );

    const show = await run('queue', 'show', waiting.id.toLowerCase());
    assert.ok(show.includes(`id: ${waiting.id}`));
    assert.ok(show.includes('from: <>'));
    assert.ok(show.includes('envid: ENV7'));
    assert.ok(show.some((l) => /^ {2}a@wait\.example {2}deferred {2}attempts=1/.test(l)));
    assert.ok(show.includes('    451 4.7.1 greylisted'));
    assert.ok(show.includes('    550 5.1.1 unknown'));
    assert.ok((await run('queue', 'show', done.id)).some((l) => l.includes('via mx.done.example')));
  });

  it('retry makes a deferred entry due now; delete removes it; unknown or finished ids are refused', async () => {
    const e = entryInput('retry.example', ['x']);
    await f.queue.enqueue([e], 'admin-2');
    await f.queue.claim(e.id, 'r', f.now() + 60_000);
    await f.queue.complete(e.id, 'r', {
      at: f.now(),
      nextAttemptAt: f.now() + 86_400_000,
      outcomes: [{ address: 'x@retry.example', result: 'deferred', reply: '421 4.4.2 timeout' }],
    });
    assert.ok(!(await f.queue.due(f.now(), 100)).some((d) => d.id === e.id));
    assert.match((await run('queue', 'retry', e.id))[0], /is due now/);
    assert.ok((await f.queue.due(f.now(), 100)).some((d) => d.id === e.id));
    assert.match((await run('queue', 'delete', e.id))[0], /^deleted /);
    assert.equal(await f.queue.get(e.id), undefined);
    await assert.rejects(run('queue', 'delete', e.id), { name: 'NotFoundError' });
    await assert.rejects(run('queue', 'retry', e.id), { name: 'NotFoundError' });
    await assert.rejects(run('queue', 'show', '01ARZ3NDEKTSV4RRFFQ69G5FAV'), { name: 'NotFoundError' });
  });

  it('checks its arguments before opening storage', async () => {
    const opened: string[] = [];
    const strict: CommandContext = {
      ...ctx,
      storage: async () => {
        opened.push('x');
        return ctx.storage();
      },
    };
    const refuse = (argv: string[], pattern: RegExp) => assert.rejects(runCommand(parseArgs(argv), strict), pattern);
    await refuse(['queue', 'show'], /missing argument: queue show <id>/);
    await refuse(['queue', 'show', 'a', 'b'], /too many arguments/);
    await refuse(['queue', 'retry', '../etc'], /not a queue id/);
    await refuse(['queue', 'list', 'x'], /too many arguments/);
    await refuse(['queue', 'flush'], /unknown command queue flush \(list, show, retry, delete\)/);
    await refuse(['queue'], /missing queue command/);
    await refuse(['queue', 'list', '--grace', '1h'], /--grace does not apply to queue list/);
    assert.deepEqual(opened, []);
    assert.ok(USAGE.some((l) => l.includes('queue show <id>')));
  });

  it('the CLI runs it against the emulator', async () => {
    const e = entryInput('cli.example', ['x']);
    await f.queue.enqueue([e], 'admin-cli');
    const dataDir = mkdtempSync(join(tmpdir(), 'postern-admin-queue-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const prefix = f.names.tables.directory.replace(/-directory$/, '');
    writeEmulatorState(dataDir, {
      pid: process.pid,
      endpoints: f.endpoints,
      tablePrefix: prefix,
      startedAt: new Date().toISOString(),
    });
    const { POSTERN_ADMIN_TARGET: _target, ...inherited } = process.env;
    const env = { ...inherited, POSTERN_DATA_DIR: dataDir };
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/admin.ts', 'queue', 'show', e.id], {
      cwd: resolve(import.meta.dirname, '../..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const code = await new Promise((r) => child.once('close', r));
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^id: ${e.id}\\n`));
    assert.match(out, /\n {2}x@cli\.example {2}scheduled {2}attempts=0/);
  });
});
