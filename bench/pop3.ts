/**
 * `npm run bench -- pop3`: download 1,000 messages of 10 KB with 10 parallel clients (one account each, 100
 * messages: RETR all, then QUIT), from Postern's gateway and, when it is installed, from Dovecot's POP3 in
 * the same run with the same client and the same bytes. Prints messages/s, peak memory of the server, and
 * the ratio.
 *
 * Postern's gateway runs in a process of its own (bench/support/gatewayProcess.ts, with MALLOC_ARENA_MAX=2
 * as in the Dockerfile) over the local emulators, DynamoDB Local and the S3 stand-in (also a process of its
 * own, bench/support/s3Process.ts), which run on the same machine; its memory is measured alone.
 * Dovecot reads maildirs from local disk. One warm-up pass (Dovecot builds its indexes, Postern's process
 * warms up), then BENCH_POP3_ROUNDS measured passes (default 3); the median is reported. Then as many passes
 * of sessions without RETR (login, STAT, QUIT), so the CPU of every process (server, load generator,
 * emulators) can be split into a per-session part (login with its password hash, listing, lock) and a
 * per-RETR part.
 *
 * Other settings: BENCH_POP3_CLIENTS, BENCH_POP3_MESSAGES, BENCH_POP3_SIZE; BENCH_POP3_DOVECOT=0 skips
 * Dovecot; BENCH_POP3_S3=inline runs the S3 stand-in inside the load generator's process (as before);
 * BENCH_POP3_MALLOC_ARENA_MAX sets the gateway's arenas ('' for glibc's default). To profile:
 * POSTERN_GATEWAY_NODE_ARGS / POSTERN_S3_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../lib/core/password.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { LOCAL_CREDENTIALS, makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { startS3Server } from '../local/s3/server.ts';
import { findDovecot, startDovecot } from './support/dovecot.ts';
import { samplePeak, type TreeMemory, treeCpuSeconds } from './support/memory.ts';
import { downloadAll } from './support/pop3Client.ts';
import { spawnBenchGateway } from './support/spawnGateway.ts';
import { spawnS3 } from './support/spawnS3.ts';

const CLIENTS = Number(process.env.BENCH_POP3_CLIENTS ?? 10);
const MESSAGES = Number(process.env.BENCH_POP3_MESSAGES ?? 1000);
const MESSAGE_SIZE = Number(process.env.BENCH_POP3_SIZE ?? 10 * 1024);
const ROUNDS = Number(process.env.BENCH_POP3_ROUNDS ?? 3);
/** BENCH_POP3_S3=inline runs the S3 stand-in in this process (with the load generator) instead of its own. */
const S3_INLINE = process.env.BENCH_POP3_S3 === 'inline';
/**
 * glibc malloc settings of the gateway process, as the Dockerfile sets them (MALLOC_ARENA_MAX=2: the 19 MiB
 * argon2id buffers of concurrent logins, allocated on thread-pool threads, do not stay behind in one arena per
 * thread). BENCH_POP3_MALLOC_ARENA_MAX overrides the value; empty leaves glibc's default (8 per core).
 */
const GATEWAY_MALLOC_ENV: Record<string, string> =
  (process.env.BENCH_POP3_MALLOC_ARENA_MAX ?? '2') === ''
    ? {}
    : { MALLOC_ARENA_MAX: process.env.BENCH_POP3_MALLOC_ARENA_MAX ?? '2' };
const PREFIX = 'Return-Path: <sender@bench.example>\r\n';

interface RoundResult {
  readonly seconds: number;
  /** CPU seconds the server (process tree) used during the round. */
  readonly cpu: number;
  /** CPU seconds of the other processes involved (load generator, storage emulators), by name. */
  readonly others: Record<string, number>;
  readonly messages: number;
  readonly bytes: number;
}

/** A process whose CPU is counted apart from the server's: the load generator and the storage emulators. */
interface CpuMeter {
  readonly name: string;
  read(): number;
}

/** This process: the load generator (and the S3 stand-in when it runs inline, BENCH_POP3_S3=inline). */
const selfCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface ServerResult {
  readonly name: string;
  readonly rounds: RoundResult[];
  /** Rounds of sessions without RETR (login, STAT, QUIT): the per-session part of the cost. */
  readonly sessions: RoundResult[];
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
  meters: readonly CpuMeter[],
  retrieve = true,
): Promise<RoundResult> {
  const cpu0 = treeCpuSeconds(pid, tree);
  const others0 = meters.map((m) => m.read());
  const started = performance.now();
  const results = await Promise.all(users.map((u) => downloadAll(port, u.user, u.pass, { retrieve })));
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    cpu: treeCpuSeconds(pid, tree) - cpu0,
    others: Object.fromEntries(meters.map((m, i) => [m.name, m.read() - others0[i]])),
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
  meters: readonly CpuMeter[],
): Promise<ServerResult> {
  const warm = await round(port, users, pid, tree, meters);
  if (warm.messages !== MESSAGES)
    throw new Error(`${name}: downloaded ${warm.messages} messages, expected ${MESSAGES}`);
  const idle = samplePeak(pid, tree);
  await new Promise((r) => setTimeout(r, 200));
  const idleMemory = idle.stop();
  const sampler = samplePeak(pid, tree);
  const rounds: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(port, users, pid, tree, meters));
  const memory = sampler.stop();
  const sessions: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) sessions.push(await round(port, users, pid, tree, meters, false));
  return { name, rounds, sessions, memory, idleMemory };
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

/**
 * CPU of every process involved, median over the rounds: per message downloaded (everything, as in the
 * table), per session without RETR (login with its password hash, listing, maildrop lock), and per RETR
 * alone (a round's CPU less its sessions' share, per message).
 */
function cpuBreakdown(results: ServerResult[]): string {
  const lines: string[] = [];
  const fmt = (v: number) => v.toFixed(2);
  for (const r of results) {
    const names = [r.name, ...Object.keys(r.rounds[0].others)];
    const cpuOf = (x: RoundResult, k: string) => (k === r.name ? x.cpu : x.others[k]);
    const sessionsPerRound = CLIENTS;
    const perMessage = names.map((k) => median(r.rounds.map((x) => cpuOf(x, k) / x.messages)) * 1000);
    const perSession = names.map((k) => median(r.sessions.map((x) => cpuOf(x, k) / sessionsPerRound)) * 1000);
    const perRetr = names.map(
      (k, i) =>
        median(r.rounds.map((x) => (cpuOf(x, k) - (perSession[i] / 1000) * sessionsPerRound) / x.messages)) * 1000,
    );
    const row = (label: string, values: number[]) =>
      `  ${label}: ${names.map((k, i) => `${k} ${fmt(values[i])}`).join(', ')}; total ${fmt(values.reduce((a, b) => a + b, 0))}`;
    lines.push(`CPU ms with ${r.name} (median of rounds):`);
    lines.push(row('per message downloaded', perMessage));
    lines.push(row(`per session without RETR (${CLIENTS} per round)`, perSession));
    lines.push(row('per RETR alone', perRetr));
  }
  return lines.join('\n');
}

export async function runPop3Bench(): Promise<void> {
  const perClient = Math.floor(MESSAGES / CLIENTS);
  console.log(
    `# POP3 benchmark: ${CLIENTS} clients x ${perClient} messages of ${MESSAGE_SIZE} bytes, ${ROUNDS} measured rounds`,
  );
  const s3Dir = mkdtempSync(join(tmpdir(), 'postern-bench-s3-'));
  const [dynamo, s3] = await Promise.all([
    startDynamoDbLocal(),
    S3_INLINE
      ? startS3Server({ dataDir: s3Dir, credentials: LOCAL_CREDENTIALS }).then((s) => ({
          endpoint: s.endpoint,
          pid: undefined,
          stop: () => s.close(),
        }))
      : spawnS3(s3Dir),
  ]);
  const endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  const meters: CpuMeter[] = [
    { name: S3_INLINE ? 'load generator + S3 stand-in' : 'load generator', read: selfCpu },
    ...(s3.pid === undefined ? [] : [{ name: 'S3 stand-in', read: () => treeCpuSeconds(s3.pid, false) }]),
    ...(dynamo.process.pid === undefined
      ? []
      : [{ name: 'DynamoDB Local', read: () => treeCpuSeconds(dynamo.process.pid!, false) }]),
  ];
  const names = namesWithPrefix(`bench${randomBytes(3).toString('hex')}`);
  {
    const db = makeDynamoClient(endpoints);
    const s3c = makeS3Client(endpoints);
    await ensureStorage(db, s3c, names);
    db.destroy();
    s3c.destroy();
  }
  const storage = createAwsStorage({ endpoints, names });
  const cleanups: (() => Promise<void>)[] = [
    async () => {
      storage.close();
      await Promise.all([dynamo.stop(), s3.stop()]);
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
    const gateway = await spawnBenchGateway(endpoints, names, GATEWAY_MALLOC_ENV);
    cleanups.unshift(() => gateway.stop());
    const results: ServerResult[] = [];
    results.push(await measure('Postern', gateway.ports.pop3, gateway.pid, false, users, meters));
    await gateway.stop();

    // ---------------------------------------------------------------- Dovecot
    const binary = findDovecot();
    let dovecotVersion = '';
    if (process.env.BENCH_POP3_DOVECOT === '0') {
      console.log('dovecot comparison skipped (BENCH_POP3_DOVECOT=0)');
    } else if (!binary) {
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
      results.push(await measure('Dovecot', dovecot.port, dovecot.pid, true, users, meters.slice(0, 1)));
      await dovecot.stop();
    }

    // ---------------------------------------------------------------- report
    console.log('');
    console.log(table(results));
    console.log('');
    console.log(cpuBreakdown(results));
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
      'listing a DynamoDB Local query, and both emulators share the cores of the machine with the gateway and the load',
    );
    console.log(
      'generator; each login also runs argon2id (m=19 MiB, t=2, by design), where Dovecot compares a plain password.',
    );
  } finally {
    for (const c of cleanups) await c().catch(() => {});
  }
}
