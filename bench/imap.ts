/**
 * `npm run bench -- imap`: Postern's IMAP gateway side by side with Dovecot's imap (Debian dovecot-imapd),
 * in one run, driven by the same client code (bench/support/imapClient.ts: raw sockets, one command at a
 * time per client, no pipelining) over the same messages (bench/support/imapCorpus.ts).
 *
 * (a) mixed load (bench/support/imapLoad.ts): BENCH_IMAP_CLIENTS clients (20), one account each with an
 *     INBOX of BENCH_IMAP_MESSAGES messages (100), loop SELECT, FETCH of flags and headers of a window of
 *     BENCH_IMAP_WINDOW messages (20), STORE, APPEND, UID STORE \Deleted, EXPUNGE for BENCH_IMAP_SECONDS
 *     per server (20), split into BENCH_IMAP_ROUNDS rounds (2) that alternate between the servers, after a
 *     warm-up round of BENCH_IMAP_WARMUP seconds (3) each. Commands per second, per-command latency.
 * (b) one mailbox of BENCH_IMAP_BIG messages (10,000): SELECT, `UID FETCH 1:* (FLAGS)` and
 *     `FETCH 1:* (ENVELOPE BODYSTRUCTURE)`, BENCH_IMAP_BIG_REPEATS passes (3) alternating between the
 *     servers after one warm-up pass each (Dovecot builds its index and cache then); median latency.
 * (c) server CPU per command (Postern: the gateway process; DynamoDB Local and the S3 stand-in apart;
 *     Dovecot: the master and every process below it, from /proc) and peak RSS (summed over the tree).
 *
 * Postern: the gateway in a process of its own (bench/support/gatewayProcess.ts) over DynamoDB Local and
 * the S3 stand-in, each a process of its own on the same machine; preloaded through the MailStore port.
 * Dovecot: maildir files in a temp dir, plain passwords, defaults otherwise (bench/support/dovecot.ts).
 * Results also go to BENCH_IMAP_JSON (default $TMPDIR/postern-bench-imap.json).
 * BENCH_IMAP_DOVECOT=0 skips Dovecot; BENCH_IMAP_ONLY=mixed|big runs one part; BENCH_IMAP_PROFILE=<dir>
 * writes a CPU profile of the gateway there (node --cpu-prof; read it with bench/support/cpuProfileTop.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../lib/core/password.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { machineLine, table } from './support/benchReport.ts';
import { type CpuMeter, processMeter, selfMeter } from './support/cpuMeters.ts';
import { findDovecot, startDovecot } from './support/dovecot.ts';
import { benchMessage, inParallel, preloadPostern } from './support/imapCorpus.ts';
import {
  type BenchServer,
  type BenchUser,
  BIG_COMMANDS,
  type BigCommand,
  type BigPass,
  bigPass,
  MIXED_COMMANDS,
  type MixedRound,
  mixedRound,
} from './support/imapLoad.ts';
import { treeMemory } from './support/memory.ts';
import { spawnBenchGateway } from './support/spawnGateway.ts';
import { spawnS3 } from './support/spawnS3.ts';

const env = (name: string, fallback: number) => Number(process.env[`BENCH_IMAP_${name}`] ?? fallback);
const CLIENTS = env('CLIENTS', 20);
const MESSAGES = env('MESSAGES', 100);
const WINDOW = Math.min(env('WINDOW', 20), MESSAGES);
const SECONDS = env('SECONDS', 20);
const ROUNDS = Math.max(1, env('ROUNDS', 2));
const WARMUP = env('WARMUP', 3);
const BIG = env('BIG', 10_000);
const BIG_REPEATS = Math.max(1, env('BIG_REPEATS', 3));
const ONLY = process.env.BENCH_IMAP_ONLY ?? '';
const RUN_MIXED = ONLY === '' || ONLY === 'mixed';
const RUN_BIG = ONLY === '' || ONLY === 'big';
const JSON_PATH = process.env.BENCH_IMAP_JSON ?? join(tmpdir(), 'postern-bench-imap.json');
const PROFILE_DIR = process.env.BENCH_IMAP_PROFILE;

interface ServerResults {
  readonly server: BenchServer;
  readonly mixed: MixedRound[];
  readonly big: BigPass[];
  idleRss: number;
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const ms = (v: number) => v.toFixed(v < 10 ? 2 : 0);

// ---------------------------------------------------------------- summaries (what the table and JSON say)

function mixedSummary(r: ServerResults) {
  const rounds = r.mixed;
  const commands = sum(rounds.map((x) => x.commands));
  const seconds = sum(rounds.map((x) => x.seconds));
  const cpu = Object.fromEntries(
    r.server.meters.map((m) => [m.name, (sum(rounds.map((x) => x.cpu[m.name])) / commands) * 1000]),
  );
  const latency = Object.fromEntries(
    MIXED_COMMANDS.map((k) => {
      const all = rounds.flatMap((x) => x.latency[k]);
      return [k, { p50: median(all), p95: percentile(all, 0.95), count: all.length }];
    }),
  );
  return {
    commandsPerSecond: commands / seconds,
    roundsCommandsPerSecond: rounds.map((x) => x.commands / x.seconds),
    commands,
    seconds,
    cpuMsPerCommand: cpu,
    serverCpuMsPerCommand: cpu[r.server.meters[0].name],
    peakRss: Math.max(...rounds.map((x) => x.memory.rss)),
    peakPss: Math.max(...rounds.map((x) => x.memory.pss)),
    latencyMs: latency,
  };
}

function bigSummary(r: ServerResults) {
  const server = r.server.meters[0].name;
  return {
    commands: Object.fromEntries(
      (Object.keys(BIG_COMMANDS) as BigCommand[]).map((k) => {
        const t = r.big.map((p) => p.timings[k]);
        return [
          k,
          {
            ms: median(t.map((x) => x.ms)),
            allMs: t.map((x) => x.ms),
            serverCpuMs: median(t.map((x) => x.cpu[server] * 1000)),
            cpuMs: Object.fromEntries(r.server.meters.map((m) => [m.name, median(t.map((x) => x.cpu[m.name] * 1000))])),
            responseBytes: median(t.map((x) => x.bytes)),
          },
        ];
      }),
    ),
    peakRss: Math.max(...r.big.map((p) => p.memory.rss)),
  };
}

function report(results: ServerResults[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const [p, d] = results;
  if (RUN_MIXED) {
    const s = results.map(mixedSummary);
    console.log(
      `\n(a) mixed load: ${CLIENTS} clients, ${MESSAGES} messages each, window ${WINDOW}, ${SECONDS} s per server in ${ROUNDS} alternating rounds`,
    );
    console.log(
      table([
        [
          'server',
          'cmds/s',
          'rounds',
          ...MIXED_COMMANDS.map((k) => `${k} p50/p95 ms`),
          'server CPU ms/cmd',
          'peak RSS',
        ],
        ...results.map((r, i) => [
          r.server.name,
          s[i].commandsPerSecond.toFixed(0),
          s[i].roundsCommandsPerSecond.map((x) => x.toFixed(0)).join('/'),
          ...MIXED_COMMANDS.map((k) => `${ms(s[i].latencyMs[k].p50)}/${ms(s[i].latencyMs[k].p95)}`),
          s[i].serverCpuMsPerCommand.toFixed(2),
          mib(s[i].peakRss),
        ]),
      ]),
    );
    for (const [i, r] of results.entries()) {
      const parts = Object.entries(s[i].cpuMsPerCommand).map(([k, v]) => `${k} ${v.toFixed(2)}`);
      console.log(`  CPU ms per command, ${r.server.name}: ${parts.join(', ')}`);
    }
    out.mixed = Object.fromEntries(results.map((r, i) => [r.server.name, s[i]]));
    if (d) {
      const [sp, sd] = s;
      const ratios = {
        throughput: sp.commandsPerSecond / sd.commandsPerSecond,
        serverCpuPerCommand: sp.serverCpuMsPerCommand / sd.serverCpuMsPerCommand,
        peakRss: sp.peakRss / sd.peakRss,
      };
      console.log(
        `  ratio Postern/Dovecot: throughput ${ratios.throughput.toFixed(2)}x, server CPU per command ${ratios.serverCpuPerCommand.toFixed(2)}x, peak RSS ${ratios.peakRss.toFixed(2)}x`,
      );
      out.mixedRatios = ratios;
    }
  }
  if (RUN_BIG) {
    const s = results.map(bigSummary);
    console.log(`\n(b) one mailbox of ${BIG} messages: median of ${BIG_REPEATS} passes per server`);
    const names = Object.keys(BIG_COMMANDS) as BigCommand[];
    console.log(
      table([
        ['server', ...names.map((k) => `${k} ms (server CPU ms)`), 'response KiB (FLAGS / ENV+BS)', 'peak RSS'],
        ...results.map((r, i) => [
          r.server.name,
          ...names.map((k) => `${ms(s[i].commands[k].ms)} (${ms(s[i].commands[k].serverCpuMs)})`),
          `${(s[i].commands[names[1]].responseBytes / 1024).toFixed(0)} / ${(s[i].commands[names[2]].responseBytes / 1024).toFixed(0)}`,
          mib(s[i].peakRss),
        ]),
      ]),
    );
    out.big = Object.fromEntries(results.map((r, i) => [r.server.name, s[i]]));
    if (d) {
      const ratios = Object.fromEntries(names.map((k) => [k, s[0].commands[k].ms / s[1].commands[k].ms]));
      console.log(`  latency ratio Postern/Dovecot: ${names.map((k) => `${k} ${ratios[k].toFixed(2)}x`).join(', ')}`);
      out.bigRatios = ratios;
    }
  }
  console.log(`\n(c) idle RSS: ${results.map((r) => `${r.server.name} ${mib(r.idleRss)}`).join(', ')}`);
  out.idleRss = Object.fromEntries(results.map((r) => [r.server.name, r.idleRss]));
  if (p && !d) console.log('  (no Dovecot in this run: no ratios)');
  return out;
}

// ---------------------------------------------------------------- the run

async function runAll(servers: BenchServer[], mixedUsers: BenchUser[], bigUser: BenchUser): Promise<ServerResults[]> {
  const results: ServerResults[] = servers.map((server) => ({ server, mixed: [], big: [], idleRss: 0 }));
  const mixedOpts = (seconds: number, loopOffset: number) => ({
    seconds,
    messages: MESSAGES,
    window: WINDOW,
    loopOffset,
  });
  let loops = 0;
  if (RUN_MIXED && WARMUP > 0) {
    for (const s of servers) await mixedRound(s, mixedUsers, mixedOpts(WARMUP, 0));
    console.log('# mixed warm-up done');
  }
  if (RUN_BIG) {
    for (const s of servers) await bigPass(s, bigUser, BIG);
    console.log('# big-mailbox warm-up done');
  }
  for (const r of results) r.idleRss = treeMemory(r.server.pid, r.server.tree, false).rss;
  if (RUN_MIXED) {
    for (let round = 0; round < ROUNDS; round++) {
      loops += 7;
      for (const r of results) {
        const m = await mixedRound(r.server, mixedUsers, mixedOpts(SECONDS / ROUNDS, loops));
        r.mixed.push(m);
        console.log(`# mixed round ${round + 1} ${r.server.name}: ${(m.commands / m.seconds).toFixed(0)} cmds/s`);
      }
    }
  }
  if (RUN_BIG) {
    for (let pass = 0; pass < BIG_REPEATS; pass++) {
      for (const r of results) {
        const b = await bigPass(r.server, bigUser, BIG);
        r.big.push(b);
        const t = Object.values(b.timings).map((x) => x.ms.toFixed(0));
        console.log(`# big pass ${pass + 1} ${r.server.name}: ${t.join(' / ')} ms`);
      }
    }
  }
  return results;
}

export async function runImapBench(): Promise<void> {
  console.log(machineLine('IMAP benchmark'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const s3Dir = mkdtempSync(join(tmpdir(), 'postern-bench-s3-'));
    const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), spawnS3(s3Dir)]);
    cleanups.push(async () => {
      await Promise.all([dynamo.stop(), s3.stop()]);
      rmSync(s3Dir, { recursive: true, force: true });
    });
    const endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
    const names = namesWithPrefix(`bench${randomBytes(3).toString('hex')}`);
    {
      const db = makeDynamoClient(endpoints);
      const s3c = makeS3Client(endpoints);
      await ensureStorage(db, s3c, names);
      db.destroy();
      s3c.destroy();
    }
    const storage = createAwsStorage({ endpoints, names });
    cleanups.push(async () => storage.close());

    // ---------------------------------------------------------------- data, the same octets for both
    const mixedUsers = Array.from({ length: CLIENTS }, (_, i) => ({ user: `user${i}@bench.example`, pass: `pw-${i}` }));
    const bigUser = { user: 'big@bench.example', pass: 'pw-big' };
    const corpus = new Map<string, Buffer[]>();
    if (RUN_MIXED)
      for (const u of mixedUsers)
        corpus.set(
          u.user,
          Array.from({ length: MESSAGES }, (_, i) => benchMessage(u.user, i)),
        );
    if (RUN_BIG)
      corpus.set(
        bigUser.user,
        Array.from({ length: BIG }, (_, i) => benchMessage(bigUser.user, i)),
      );
    const users = [...mixedUsers, bigUser].filter((u) => corpus.has(u.user));
    const loadStarted = performance.now();
    await storage.directory.addDomain('bench.example');
    await inParallel(users, 4, async (u, i) => {
      const account = await storage.directory.addAccount({ address: u.user, passwordHash: await hashPassword(u.pass) });
      await storage.mail.ensureDefaultMailboxes(account.accountId);
      await preloadPostern(storage, account.accountId, corpus.get(u.user)!, String(i));
    });
    const total = sum([...corpus.values()].map((m) => m.length));
    console.log(
      `# loaded ${total} messages into Postern in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    );

    // ---------------------------------------------------------------- both servers up, measured in turns
    const gateway = await spawnBenchGateway(
      endpoints,
      names,
      { MALLOC_ARENA_MAX: '2' },
      PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    );
    cleanups.unshift(() => gateway.stop());
    const emulators: CpuMeter[] = [processMeter('S3 stand-in', s3.pid)];
    if (dynamo.process.pid !== undefined) emulators.push(processMeter('DynamoDB Local', dynamo.process.pid));
    const loadGenerator = selfMeter('load generator');
    const servers: BenchServer[] = [
      {
        name: 'Postern',
        port: gateway.ports.imap,
        pid: gateway.pid,
        tree: false,
        meters: [processMeter('gateway', gateway.pid), ...emulators, loadGenerator],
      },
    ];
    let dovecotVersion = '';
    const binary = findDovecot();
    if (process.env.BENCH_IMAP_DOVECOT === '0') console.log('# dovecot comparison skipped (BENCH_IMAP_DOVECOT=0)');
    else if (!binary) console.log('# dovecot not installed: apt-get install dovecot-imapd');
    else if (process.getuid?.() !== 0) console.log('# dovecot comparison skipped: it needs root (it switches users)');
    else {
      const dovecot = await startDovecot(
        binary,
        users.map((u) => ({ ...u, messages: corpus.get(u.user)! })),
        { protocol: 'imap', maildirFlags: '' },
      );
      cleanups.unshift(() => dovecot.stop());
      dovecotVersion = dovecot.version;
      servers.push({
        name: 'Dovecot',
        port: dovecot.port,
        pid: dovecot.pid,
        tree: true,
        meters: [processMeter('dovecot', dovecot.pid, true), loadGenerator],
      });
    }
    corpus.clear();

    const results = await runAll(servers, mixedUsers, bigUser);
    const summary = report(results);
    console.log(
      `\nPostern: one gateway process (tsx, not bundled) over DynamoDB Local and the S3 stand-in on the same cores; Dovecot ${dovecotVersion}: maildir on local disk, RSS and CPU summed over its processes. Same client, one command at a time per connection.`,
    );
    const json = {
      bench: 'imap',
      date: new Date().toISOString(),
      machine: { cores: cpus().length, loadAverage: loadavg() },
      settings: { CLIENTS, MESSAGES, WINDOW, SECONDS, ROUNDS, WARMUP, BIG, BIG_REPEATS, ONLY },
      dovecotVersion,
      ...summary,
    };
    writeFileSync(JSON_PATH, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`results: ${JSON_PATH}`);
  } finally {
    for (const c of cleanups) await c().catch(() => {});
  }
}
