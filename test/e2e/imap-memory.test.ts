/**
 * Bounded memory, measured on an IMAP server in a child process (its RSS alone, sampled every 10 ms):
 * `FETCH 1:* BODY[]` over 10,000 messages to a client that reads slowly and stops for a while (the server
 * must follow the socket's backpressure, not queue 100 MB: under 48 MB RSS above idle), and a 50 MB APPEND,
 * which streams into the blob store (issue #8: under 64 MB). The child is the production form: the bundle.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Account, AppendInput, MailboxState, Storage } from '../../lib/core/ports.ts';
import { MESSAGE_PREFIX, type StorageNames } from '../../lib/core/schema.ts';
import { GATEWAY_NODE_FLAGS } from '../../lib/infra/gatewayBundle.ts';
import { bundleForNode } from '../../lib/infra/nodeBundle.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

const MB = 1024 * 1024;
const COUNT = 10_000;
const BLOB = Buffer.from(`Subject: shared\r\n\r\n${'0123456789abcdef'.repeat(320)}\r\n`); // ~5 KB

let storage: Storage;
let names: StorageNames;
let account: Account;
let child: ChildProcess;
let port: number;
const outDir = mkdtempSync(join(tmpdir(), 'postern-imap-memory-'));

interface Measured {
  readonly baseline: number;
  readonly peak: number;
  readonly queued: number;
  readonly atPeak?: NodeJS.MemoryUsage;
}

function ask<T>(message: string): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(message);
  return reply.then(([m]) => m);
}

before(async () => {
  const endpoints = await testEndpoints();
  names = await freshNames(endpoints);
  storage = createAwsStorage({ endpoints, names });
  await storage.directory.addDomain('example.com');
  account = await storage.directory.addAccount({ address: 'mem@example.com', passwordHash: 'x' });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  const script = fileURLToPath(new URL('./imap-memory-child.ts', import.meta.url));
  // As production runs the gateway: bundled, under plain Node with the gateway's V8 flags.
  // POSTERN_MEMORY_CHILD=tsx runs the sources under tsx with Node's defaults instead, to compare.
  const asSources = process.env.POSTERN_MEMORY_CHILD === 'tsx';
  const bundle = join(outDir, 'imap-memory-child.mjs');
  if (!asSources) await bundleForNode(script, bundle);
  child = fork(asSources ? script : bundle, [], {
    execArgv: asSources ? ['--import', 'tsx', '--expose-gc'] : [...GATEWAY_NODE_FLAGS, '--expose-gc'],
    env: { ...process.env, POSTERN_CHILD_SETUP: JSON.stringify({ names, account }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  ({ port } = await (once(child, 'message') as Promise<[{ port: number }]>).then(([m]) => m));
});

after(() => {
  child?.kill();
  storage?.close();
  rmSync(outDir, { recursive: true, force: true });
});

/** A raw client: sends lines, and hands every received chunk to `onData` (nothing is kept unless it keeps it). */
async function raw(onData: (chunk: Buffer) => void): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('data', onData);
  return socket;
}

/** Waits until the received text ends with a line matching `re`. */
function lineSeen(get: () => string, re: RegExp, socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (re.test(get())) {
        socket.off('data', check);
        resolve();
      }
    };
    socket.on('data', check);
    socket.once('close', () => reject(new Error(`closed before ${re}: ${get().slice(-200)}`)));
    check();
  });
}

async function fill(box: MailboxState): Promise<void> {
  const blobKey = `${MESSAGE_PREFIX}shared-${Date.now()}`;
  await storage.blobs.put(blobKey, BLOB);
  const input: AppendInput = { accountId: box.accountId, mailboxId: box.mailboxId, blobKey, blobSize: BLOB.length };
  const results = await storage.mail.appendMany(Array.from({ length: COUNT }, () => input));
  assert.ok(results.every((r) => r.status === 'fulfilled'));
}

describe('IMAP memory bounds (issue #8)', () => {
  it(`FETCH 1:* BODY[] over ${COUNT} messages to a slow reader keeps RSS bounded (backpressure)`, async () => {
    const box = await storage.mail.createMailbox(account.accountId, 'Big');
    const t0 = Date.now();
    await fill(box);
    console.log(`# ${COUNT} messages stored in ${Date.now() - t0} ms`);
    const t1 = Date.now();
    let text = '';
    let received = 0;
    let head = Buffer.alloc(0);
    const socket = await raw((chunk) => {
      received += chunk.length;
      if (head.length < 20_000) head = Buffer.concat([head, chunk]);
      text = (text + chunk.toString('latin1')).slice(-4096); // room for the login's CAPABILITY code
    });
    socket.write('a1 LOGIN mem@example.com x\r\na2 EXAMINE Big\r\n');
    await lineSeen(() => text, /a2 OK [^\r\n]*\r\n$/, socket);
    await ask('reset');
    const before = received;
    socket.write('a3 FETCH 1:* BODY[]\r\n');
    // read slowly: 40 ms of reading in every 100 ms, and one stop of 3 s while the server could run ahead
    let tick = 0;
    const throttle = setInterval(() => {
      tick++;
      if (tick === 20) socket.pause();
      if (tick >= 20 && tick < 320) return;
      if (tick % 10 < 4) socket.resume();
      else socket.pause();
    }, 10);
    await lineSeen(() => text, /a3 OK FETCH completed\r\n$/, socket);
    clearInterval(throttle);
    const { baseline, peak, atPeak, queued } = await ask<Measured>('peak');
    console.log(`# fetched in ${Date.now() - t1} ms; most queued unsent ${queued} octets`);
    if (process.env.POSTERN_CHILD_DETAIL) console.log(`# at peak ${JSON.stringify(atPeak)}`);
    // the server writes only when the socket drains: what waits unsent stays near one chunk
    assert.ok(queued < 512 * 1024, `${queued} octets queued in the socket`);
    let expected = 0;
    for (let seq = 1; seq <= COUNT; seq++) expected += `* ${seq} FETCH (BODY[] {${BLOB.length}}\r\n)\r\n`.length;
    expected += BLOB.length * COUNT + 'a3 OK FETCH completed\r\n'.length;
    assert.equal(received - before, expected, 'every response, byte for byte in length');
    const first = `* 1 FETCH (BODY[] {${BLOB.length}}\r\n${BLOB.toString('latin1')})\r\n`;
    assert.ok(head.toString('latin1').includes(first), 'the first response is exact');
    const growth = (peak - baseline) / MB;
    console.log(`# FETCH of ${((BLOB.length * COUNT) / MB).toFixed(0)} MB: server RSS grew ${growth.toFixed(1)} MB`);
    // Issue #8: under 48 MB. With the whole gateway loaded, under tsx and Node's default young generation
    // (2 x 16 MiB semi-spaces) it grew 37-88 MB; bundled, with GATEWAY_NODE_FLAGS, 15-22 MB.
    assert.ok(growth < 48, `server RSS grew by ${growth.toFixed(1)} MB, over the 48 MB target`);
    socket.destroy();
  });

  it('a 50 MB APPEND streams in under 64 MB of RSS above idle, stored byte for byte', async () => {
    const size = 50 * MB;
    let text = '';
    const socket = await raw((chunk) => {
      text = (text + chunk.toString('latin1')).slice(-4096); // room for the login's CAPABILITY code
    });
    socket.write('b1 LOGIN mem@example.com x\r\n');
    await lineSeen(() => text, /b1 OK [^\r\n]*\r\n$/, socket);
    // "Above idle" means above a warm server's: one 6 MB APPEND first loads the upload code paths (multipart
    // S3 upload, summary builder) that a gateway in service has loaded long before a big message comes.
    const warm = Buffer.concat([Buffer.from('Subject: warm-up\r\n\r\n'), Buffer.alloc(6 * MB, 0x61)]);
    socket.write(`b0 APPEND INBOX {${warm.length}}\r\n`);
    await lineSeen(() => text, /\+ [^\r\n]*\r\n$/, socket);
    socket.write(Buffer.concat([warm, Buffer.from('\r\n')]));
    await lineSeen(() => text, /b0 OK [^\r\n]*\r\n$/, socket);
    await ask('reset');
    socket.write(`b2 APPEND INBOX {${size}}\r\n`);
    await lineSeen(() => text, /\+ [^\r\n]*\r\n$/, socket);
    const hash = createHash('sha256');
    const header = Buffer.from('Subject: fifty megabytes\r\n\r\n');
    const line = Buffer.from(`${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(3).slice(0, 78)}\r\n`);
    let sent = 0;
    const send = async (b: Buffer) => {
      hash.update(b);
      sent += b.length;
      if (!socket.write(b)) await once(socket, 'drain');
    };
    await send(header);
    while (sent + line.length <= size) await send(line);
    await send(Buffer.alloc(size - sent, 0x2e));
    socket.write('\r\n');
    await lineSeen(() => text, /b2 (OK|NO|BAD) [^\r\n]*\r\n$/, socket);
    const { baseline, peak, atPeak } = await ask<Measured>('peak');
    if (process.env.POSTERN_CHILD_DETAIL) console.log(`# at peak ${JSON.stringify(atPeak)}`);
    assert.match(text, /b2 OK \[APPENDUID \d+ 2\] APPEND completed\r\n$/);
    const [, meta] = await storage.mail.listMessages((await storage.mail.getMailbox(account.accountId, 'INBOX'))!);
    assert.equal(meta.size, size);
    const stored = createHash('sha256');
    for await (const c of await storage.blobs.get(meta.blobKey)) stored.update(c as Buffer);
    assert.equal(stored.digest('hex'), hash.digest('hex'));
    const growth = (peak - baseline) / MB;
    console.log(`# 50 MB APPEND: server RSS grew ${growth.toFixed(1)} MB`);
    // Issue #8: under 64 MB. Measured 30-36 MB on a child that ran nothing else, 7 MB after the FETCH test
    // (lib/storage/aws/partUpload.ts reuses its part buffers; lib-storage's Upload gave 76-105 MB).
    assert.ok(growth < 64, `server RSS grew by ${growth.toFixed(1)} MB, over the 64 MB target`);
    socket.destroy();
  });
});
