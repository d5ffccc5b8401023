/**
 * DESIGN.md rule 3 under real concurrency: two OS processes append 200 messages each into one mailbox while a
 * third polls it. No UID is duplicated, UIDNEXT ends right, and the poller never sees a UID appear below
 * one it has already seen (RFC 3501 §2.3.1.1: UIDs strictly ascending).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

const worker = (name: string) => fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url));

function run(script: string, job: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker(script), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

test('two processes append 200 each while a third polls: UIDs unique, dense and visible in ascending order', async (t) => {
  const endpoints = await testEndpoints();
  const names = await freshNames(endpoints);
  const storage = createAwsStorage({ endpoints, names });
  t.after(() => storage.close());
  const accountId = 'uid-order';
  await storage.mail.ensureDefaultMailboxes(accountId);
  const inbox = (await storage.mail.getMailbox(accountId, 'INBOX'))!;
  const body = Buffer.from('Subject: concurrency\r\n\r\nhello\r\n');
  await storage.blobs.put('messages/shared', body);
  const job = { endpoints, names, accountId, blobKey: 'messages/shared', blobSize: body.length };

  // Single-process throughput first, in a mailbox of its own.
  const solo = await storage.mail.createMailbox(accountId, 'Solo');
  const single = (await run('appender', { ...job, mailboxId: solo.mailboxId, count: 100 })) as { ms: number };

  const poller = run('poller', { endpoints, names, accountId, mailboxId: inbox.mailboxId, expected: 400 });
  // One process appends one by one, the other in group commits of up to 8: both paths race each other.
  const [a, b] = (await Promise.all([
    run('appender', { ...job, mailboxId: inbox.mailboxId, count: 200 }),
    run('appender', { ...job, mailboxId: inbox.mailboxId, count: 200, batch: 8 }),
  ])) as { uids: number[]; ms: number }[];
  const polled = (await poller) as { polls: number; seen: number; violations: unknown[] };

  const all = [...a.uids, ...b.uids].sort((x, y) => x - y);
  assert.equal(new Set(all).size, 400, 'no UID handed out twice');
  assert.deepEqual(
    all,
    Array.from({ length: 400 }, (_, i) => i + 1),
    'UIDs are dense 1..400',
  );
  const state = (await storage.mail.getMailboxById(accountId, inbox.mailboxId))!;
  assert.equal(state.uidNext, 401);
  assert.equal(state.messages, 400);
  assert.equal((await storage.mail.listMessages(inbox)).length, 400);
  assert.equal(polled.seen, 400);
  assert.deepEqual(polled.violations, [], 'no UID appeared below one already seen');
  assert.ok(polled.polls > 5, `the poller polled during the appends (${polled.polls} polls)`);

  const twoProcessRate = 400 / (Math.max(a.ms, b.ms) / 1000);
  t.diagnostic(
    `append throughput: single process ${(100 / (single.ms / 1000)).toFixed(0)}/s, ` +
      `two processes into one mailbox ${twoProcessRate.toFixed(0)}/s combined (one of them in group commits), ${polled.polls} polls`,
  );
});
