/**
 * The queue runner killed (SIGKILL) in a separate process at each step of an attempt, then a new runner: no
 * queued message is lost, and the only second delivery is of a message the next hop had already accepted
 * when the runner died, before the attempt was recorded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { entryInput, type QueueFixture, queueFixture } from './outbound-queue-support.ts';

const WORKER = fileURLToPath(new URL('./workers/queueRunner.ts', import.meta.url));
const CLAIM_MS = 3000;

let f: QueueFixture;
before(async () => {
  f = await queueFixture();
});

function runWorker(sentFile: string, kill?: string): Promise<{ signal: string | null; out: string }> {
  const job = { endpoints: f.endpoints, names: f.names, claimMs: CLAIM_MS, sentFile, kill };
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve({ signal, out })));
}

const sentLines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

async function queued(domain: string) {
  const e = entryInput(domain, ['x']);
  await f.storage.blobs.put(e.blobKey, Buffer.from('Subject: k\r\n\r\nbody\r\n'));
  await f.queue.enqueue([e], `kill-${e.id}`);
  return e;
}

test('killed after the claim, before sending: nothing went out, the entry waits for its claim to end, then goes once', async () => {
  const sent = join(mkdtempSync(join(tmpdir(), 'postern-kill-')), 'sent');
  const e = await queued('before.kill.example');
  assert.equal((await runWorker(sent, 'before-send')).signal, 'SIGKILL');
  assert.equal(sentLines(sent).length, 0);
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'scheduled', 'still queued');
  await sleep(CLAIM_MS + 200);
  const next = await runWorker(sent);
  assert.equal(JSON.parse(next.out).delivered, 1);
  assert.equal(sentLines(sent).length, 1);
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'delivered');
});

test('killed after the next hop accepted, before complete: kept, and sent a second time once the claim ends', async () => {
  const sent = join(mkdtempSync(join(tmpdir(), 'postern-kill-')), 'sent');
  const e = await queued('after.kill.example');
  assert.equal((await runWorker(sent, 'after-send')).signal, 'SIGKILL');
  assert.equal(sentLines(sent).length, 1, 'the next hop has it');
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'scheduled', 'the queue does not know');
  const offered = await f.queue.due(Date.now(), 100);
  assert.ok(!offered.some((d) => d.id === e.id), 'while the dead claim lasts, no runner is offered it');
  await sleep(CLAIM_MS + 200);
  await runWorker(sent);
  assert.equal(sentLines(sent).length, 2, 'the one case of a second delivery');
  assert.equal((await f.queue.get(e.id))?.recipients[0].status, 'delivered');
  await sleep(CLAIM_MS + 200);
  await runWorker(sent);
  assert.equal(sentLines(sent).length, 2, 'recorded now: never a third');
});
