/**
 * `npm run bench -- pop3`: download 1,000 messages of 10 KB with 10 parallel clients (one account each, 100
 * messages: RETR all, then QUIT), from Postern's gateway and, when it is installed, from Dovecot's POP3 in
 * the same run with the same client and the same bytes. Prints messages/s, peak memory of the server, and
 * the ratio.
 *
 * Postern's gateway runs in a process of its own (bench/support/gatewayProcess.ts) over the local
 * emulators (DynamoDB Local, the S3 stand-in), which run on the same machine; its memory is measured alone.
 * Dovecot reads maildirs from local disk. One warm-up pass (Dovecot builds its indexes, Postern's process
 * warms up), then BENCH_POP3_ROUNDS measured passes (default 3); the median is reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { hashPassword } from '../lib/core/password.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { createAwsStorage } from '../lib/storage/storage.ts';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { startS3Server } from '../local/s3/server.ts';
import { findDovecot, startDovecot } from './support/dovecot.ts';
import { samplePeak, type TreeMemory, treeCpuSeconds } from './support/memory.ts';
import { downloadAll } from './support/pop3Client.ts';
import { spawnGateway } from './support/spawnGateway.ts';

const CLIENTS = Number(process.env.BENCH_POP3_CLIENTS ?? 10);
const MESSAGES = Number(process.env.BENCH_POP3_MESSAGES ?? 1000);
const MESSAGE_SIZE = Number(process.env.BENCH_POP3_SIZE ?? 10 * 1024);
const ROUNDS = Number(process.env.BENCH_POP3_ROUNDS ?? 3);
const PREFIX = 'Return-Path: <sender@bench.example>\r\n';

interface RoundResult {
  readonly seconds: number;
  /** CPU seconds the server (process tree) used during the round. */
  readonly cpu: number;
  readonly messages: number;
  readonly bytes: number;
}

interface ServerResult {
  readonly name: string;
  readonly rounds: RoundResult[];
  readonly memory: TreeMemory;
  readonly idleMemory: TreeMemory;
}

/** A 10 KB message of 76-character lines, some starting with a dot (so dot-stuffing is exercised). */
function message(account: number, index: number, size: number): Buffer {
  const head = `From: sender@bench.example\r\nTo: user${account}@bench.example\r\nSubject: bench ${account}/${index}\r\nMessage-ID: <${randomBytes(8).toString('hex')}@bench.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n`;
  let body = '';
  let line = 0;
  const target = size - PREFIX.length - head.length;
  while (body.length + 78 <= target) {
    const text = `${line % 9 === 4 ? '.' : ''}${randomBytes(38).toString('base64')}`.padEnd(76, 'x').slice(0, 76);
    body += `${text}\r\n`;
    line++;
  }
  body += `${'z'.repeat(Math.max(0, target - body.length - 2))}\r\n`;
  return Buffer.from(head + body, 'latin1');
}

/** Runs the load once: every client downloads its whole maildrop; returns the wall time. */
async function round(
  port: number,
  users: { user: string; pass: string }[],
  pid: number,
  tree: boolean,
): Promise<RoundResult> {
  const cpu0 = treeCpuSeconds(pid, tree);
  const started = performance.now();
  const results = await Promise.all(users.map((u) => downloadAll(port, u.user, u.pass)));
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    cpu: treeCpuSeconds(pid, tree) - cpu0,
    messages: results.reduce((s, r) => s + r.messages, 0),
    bytes: results.reduce((s, r) => s + r.bytes, 0),
  };
}

async function measure(
  name: string,
  port: number,
  pid: number,
  tree: boolean,
  users: { user: string; pass: string }[],
): Promise<ServerResult> {
  const warm = await round(port, users, pid, tree);
  if (warm.messages !== MESSAGES)
    throw new Error(`${name}: downloaded ${warm.messages} messages, expected ${MESSAGES}`);
  const idle = samplePeak(pid, tree);
  await new Promise((r) => setTimeout(r, 200));
  const idleMemory = idle.stop();
  const sampler = samplePeak(pid, tree);
  const rounds: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(port, users, pid, tree));
  return { name, rounds, memory: sampler.stop(), idleMemory };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const rate = (r: ServerResult) => median(r.rounds.map((x) => x.messages / x.seconds));

function table(results: ServerResult[]): string {
  const rows = [
    [
      'server',
      'msgs/s (median)',
      'all rounds msgs/s',
      'MB/s',
      'server CPU ms/msg',
      'peak RSS',
      'peak PSS',
      'idle RSS',
      'procs',
    ],
    ...results.map((r) => [
      r.name,
      rate(r).toFixed(0),
      r.rounds.map((x) => (x.messages / x.seconds).toFixed(0)).join(' / '),
      ((rate(r) * MESSAGE_SIZE) / 1e6).toFixed(1),
      (median(r.rounds.map((x) => x.cpu / x.messages)) * 1000).toFixed(2),
      mib(r.memory.rss),
      mib(r.memory.pss),
      mib(r.idleMemory.rss),
      String(r.memory.processes),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}

export async function runPop3Bench(): Promise<void> {
  const perClient = Math.floor(MESSAGES / CLIENTS);
  console.log(
    `# POP3 benchmark: ${CLIENTS} clients x ${perClient} messages of ${MESSAGE_SIZE} bytes, ${ROUNDS} measured rounds`,
  );
  const s3Dir = mkdtempSync(join(tmpdir(), 'postern-bench-s3-'));
  const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startS3Server({ dataDir: s3Dir })]);
  const endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  const names = namesWithPrefix(`bench${randomBytes(3).toString('hex')}`);
  {
    const db = makeDynamoClient(endpoints);
    const s3c = makeS3Client(endpoints);
    await ensureStorage(db, s3c, names);
    db.destroy();
    s3c.destroy();
  }
  const storage = createAwsStorage(endpoints, names);
  const cleanups: (() => Promise<void>)[] = [
    async () => {
      storage.close();
      await Promise.all([dynamo.stop(), s3.close()]);
      rmSync(s3Dir, { recursive: true, force: true });
    },
  ];
  try {
    // ---------------------------------------------------------------- data
    const loadStarted = performance.now();
    await storage.directory.addDomain('bench.example');
    const users = Array.from({ length: CLIENTS }, (_, i) => ({
      user: `user${i}@bench.example`,
      pass: `bench-pw-${i}`,
    }));
    const corpus: Buffer[][] = users.map((_, a) =>
      Array.from({ length: perClient }, (_, i) => message(a, i, MESSAGE_SIZE)),
    );
    await Promise.all(
      users.map(async (u, a) => {
        const account = await storage.directory.addAccount({
          address: u.user,
          passwordHash: await hashPassword(u.pass),
        });
        await storage.mail.ensureDefaultMailboxes(account.accountId);
        const inbox = (await storage.mail.getMailbox(account.accountId, 'INBOX'))!;
        for (const [i, m] of corpus[a].entries()) {
          const blobKey = `bench/${a}/${i}`;
          await storage.blobs.put(blobKey, m);
          await storage.mail.append({
            accountId: account.accountId,
            mailboxId: inbox.mailboxId,
            blobKey,
            blobSize: m.length,
            headerPrefix: PREFIX,
          });
        }
      }),
    );
    console.log(
      `# loaded ${CLIENTS * perClient} messages into Postern in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    );

    // ---------------------------------------------------------------- Postern
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    const gateway = await spawnGateway({
      endpoints,
      names,
      tls: { key: pems.private, cert: pems.cert },
      env: { POSTERN_ALLOW_PLAINTEXT_AUTH: '1', POSTERN_MAX_CONNECTIONS_PER_IP: '1000' },
    });
    cleanups.unshift(() => gateway.stop());
    const results: ServerResult[] = [];
    results.push(await measure('Postern', gateway.ports.pop3, gateway.pid, false, users));
    await gateway.stop();

    // ---------------------------------------------------------------- Dovecot
    const binary = findDovecot();
    let dovecotVersion = '';
    if (!binary) {
      console.log('dovecot not installed: apt-get install dovecot-pop3d');
    } else if (process.getuid?.() !== 0) {
      console.log('dovecot comparison skipped: it needs root (Dovecot switches to its own users)');
    } else {
      const dovecot = await startDovecot(
        binary,
        users.map((u, a) => ({ ...u, messages: corpus[a].map((m) => Buffer.concat([Buffer.from(PREFIX), m])) })),
      );
      cleanups.unshift(() => dovecot.stop());
      dovecotVersion = dovecot.version;
      results.push(await measure('Dovecot', dovecot.port, dovecot.pid, true, users));
      await dovecot.stop();
    }

    // ---------------------------------------------------------------- report
    console.log('');
    console.log(table(results));
    console.log('');
    if (results.length === 2) {
      const [p, d] = results;
      console.log(
        `ratio Postern/Dovecot: throughput ${(rate(p) / rate(d)).toFixed(2)}x, peak RSS ${(p.memory.rss / d.memory.rss).toFixed(2)}x, peak PSS ${(p.memory.pss / d.memory.pss).toFixed(2)}x`,
      );
      console.log(
        `Dovecot ${dovecotVersion}: maildir on local disk; RSS summed over its processes (master, login, auth, pop3 ...); PSS counts shared pages once.`,
      );
    }
    console.log(
      'Postern: one gateway process (tsx, not bundled); every RETR is an S3 GET to the local S3 stand-in, the',
    );
    console.log(
      'listing a DynamoDB Local query, and both emulators share the 2 cores with the gateway and the load generator.',
    );
  } finally {
    for (const c of cleanups) await c().catch(() => {});
  }
}
