/**
 * A 30 MB message through the MX with curl: streamed to S3 as it arrives (multipart upload), never held
 * whole; the delivered copy is compared by SHA-256, read back as a stream.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openMessage } from '../../lib/core/messageBody.ts';
import { simpleMessage, startMxGateway } from '../protocol/smtp-helpers.ts';

const run = promisify(execFile);

test('a 30 MB message with dot lines streams in and is delivered byte for byte', async () => {
  const tg = await startMxGateway();
  await tg.addAccount('bob@ours.test', 'pw');
  const dir = mkdtempSync(join(tmpdir(), 'postern-smtp-large-'));
  const file = join(dir, 'large.eml');
  const head = simpleMessage({ subject: 'thirty megabytes', body: '' });
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  const write = async (s: string) => {
    hash.update(s);
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write(head);
  const line = `${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(2).slice(0, 74)}\r\n`;
  let size = Buffer.byteLength(head);
  for (let i = 0; size < 30 * 1024 * 1024; i++) {
    const l = i % 1000 === 0 ? `.dot line ${i}\r\n` : line;
    await write(l);
    size += l.length;
  }
  await new Promise<void>((r) => out.end(() => r()));
  const expected = hash.digest('hex');

  let peak = process.memoryUsage.rss();
  const baseline = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  const started = Date.now();
  await run(
    'curl',
    [
      '--silent',
      '--show-error',
      `smtp://127.0.0.1:${tg.port('smtp')}/big.example`,
      '--mail-from',
      'alice@sender.test',
      '--mail-rcpt',
      'bob@ours.test',
      '--upload-file',
      file,
    ],
    { maxBuffer: 1 << 20 },
  );
  clearInterval(sampler);
  const elapsed = Date.now() - started;

  const box = await tg.storage.mail.getMailbox(tg.accounts.get('bob@ours.test')!.accountId, 'INBOX');
  const [meta] = await tg.storage.mail.listMessages(box!);
  assert.ok(meta, 'delivered');
  const blobSize = meta.size - Buffer.byteLength(meta.headerPrefix);
  // the delivered copy is prefix + our Received field + the client's text: hash the text part as it streams
  const got = createHash('sha256');
  let skipped = 0;
  let inReceived = true;
  let pending = Buffer.alloc(0);
  for await (const chunk of await openMessage(tg.storage.blobs, meta, {
    start: Buffer.byteLength(meta.headerPrefix),
  })) {
    let c = chunk as Buffer;
    if (inReceived) {
      pending = Buffer.concat([pending, c]);
      // the Received field ends at the first CRLF not followed by a tab
      let end = pending.indexOf('\r\n');
      while (end !== -1 && pending[end + 2] === 0x09) end = pending.indexOf('\r\n', end + 2);
      if (end === -1 || end + 2 >= pending.length) continue;
      skipped = end + 2;
      c = pending.subarray(skipped);
      inReceived = false;
    }
    got.update(c);
  }
  assert.equal(got.digest('hex'), expected);
  assert.equal(blobSize - skipped, size);
  assert.equal((meta.summary as { size: number }).size, meta.size);
  const growthMb = (peak - baseline) / 1024 / 1024;
  console.log(`# 30 MB in ${elapsed} ms; test process RSS grew by ${growthMb.toFixed(1)} MB during the transfer`);
  // gateway, S3 client and test runner share this process: a generous bound that still catches buffering
  assert.ok(growthMb < 120, `RSS grew by ${growthMb.toFixed(1)} MB`);
});
