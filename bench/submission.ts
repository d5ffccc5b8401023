/**
 * `npm run bench -- submission`: outbound mail, submission to delivery, Postern and Postfix side by side in
 * one run, driven by the same client (bench/support/submissionLoad.ts: nodemailer, pooled, STARTTLS and AUTH
 * PLAIN) sending the same messages to remote recipients, relayed to the same sink (an smtp-server in this
 * process, test/support/smtpSink.ts, no TLS) that notes when each message arrives.
 *
 * Postern: the real gateway program (bench/support/mainGateway.ts) on the submission port, over DynamoDB Local
 * and the S3 stand-in (each a process of its own); a 250 means the message is in S3 and its queue entry in
 * DynamoDB. The queue is worked in the same process (the emulator's wiring: the deliver step after each
 * enqueue and on a timer) by the smarthost transport into the sink, unsigned unless BENCH_SUBMISSION_DKIM=1.
 * Postfix: bench/support/postfixSubmission.ts (smtpd with Cyrus SASL, relayhost = the sink); a 250 means
 * the message is in its queue.
 *
 * Measured per server, after a warm-up round: messages/s accepted (250s over the load's time), delivered
 * (until the last one reached the sink), submission latency (sendMail to 250) and end-to-end latency (250 to
 * arrival at the sink) percentiles; server CPU per message over the whole window, load and drain (Postern:
 * the gateway process, with DynamoDB Local, the S3 stand-in and this process shown apart; Postfix: the
 * master and every process below it, exited ones included); AWS requests per message (a counting proxy in
 * front of DynamoDB Local and the S3 stand-in, bench/support/awsRequestCounter.ts; it costs this process a
 * few ms of CPU per message and each request a hop).
 *
 * BENCH_SUBMISSION_CLIENTS (10), _SECONDS (10), _SIZE (body bytes, 10240), _WARMUP (seconds, 2),
 * _POSTFIX=0 skips Postfix, _COUNT_AWS=0 leaves the counting proxies out, _DKIM=1 signs Postern's mail
 * (RSA + Ed25519), _PROFILE=<dir> writes a CPU profile of the gateway there (read it with
 * bench/support/cpuProfileTop.ts). Needs root and Debian's postfix (and sasl2-bin for AUTH on the Postfix
 * side), Java for DynamoDB Local.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../lib/core/password.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { generateKeySet } from '../lib/outbound/dkimKeys.ts';
import { dkimKeyDir, localDkimKeyStore } from '../lib/outbound/dkimLocalKeys.ts';
import { makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { startSink } from '../test/support/smtpSink.ts';
import { type CountingProxy, countingProxy, countsSince } from './support/awsRequestCounter.ts';
import { machineLine, table } from './support/benchReport.ts';
import { type CpuMeter, cpuSnapshot, cpuSpent, processMeter, selfMeter } from './support/cpuMeters.ts';
import { spawnMainGateway } from './support/mainGateway.ts';
import { startPostfixSubmission } from './support/postfixSubmission.ts';
import { localhostTls } from './support/spawnGateway.ts';
import { spawnS3 } from './support/spawnS3.ts';
import {
  benchIdOf,
  endToEnd,
  type LoadResult,
  quantile,
  runSubmissionLoad,
  type SubmissionLoad,
} from './support/submissionLoad.ts';

const env = (name: string, fallback: number) => Number(process.env[`BENCH_SUBMISSION_${name}`] ?? fallback);
const CLIENTS = env('CLIENTS', 10);
const SECONDS = env('SECONDS', 10);
const SIZE = env('SIZE', 10 * 1024);
const WARMUP = env('WARMUP', 2);
const WITH_POSTFIX = process.env.BENCH_SUBMISSION_POSTFIX !== '0';
const DKIM = process.env.BENCH_SUBMISSION_DKIM === '1';
const PROFILE_DIR = process.env.BENCH_SUBMISSION_PROFILE;
/** 0: the gateway talks to the emulators directly (no request counts; without the proxies' extra hop). */
const COUNT_AWS = process.env.BENCH_SUBMISSION_COUNT_AWS !== '0';
const DRAIN_TIMEOUT_MS = 120_000;

const USER = { address: 'sender@bench.test', pass: 'bench-secret' };
const rcpt = (i: number) => `rcpt${i % 50}@remote${i % 5}.example`;

interface Server {
  readonly name: string;
  readonly port: number;
  readonly auth: boolean;
  readonly cpu: CpuMeter;
  /** Processes measured apart (Postern's storage emulators: in AWS these are services, not our CPU). */
  readonly others?: readonly CpuMeter[];
  readonly aws?: readonly CountingProxy[];
}

interface Round {
  readonly load: LoadResult;
  readonly deliveredSeconds: number;
  readonly latencies: number[];
  readonly missing: number;
  readonly cpuSeconds: number;
  readonly otherCpuSeconds: Record<string, number>;
  readonly aws: Record<string, number>;
  /** Time the AWS requests took (at the proxy), by operation. */
  readonly awsMs: Record<string, number>;
}

/** The sink's arrivals, by bench id (performance.now() in this process, as the load's reply times). */
const arrivals = new Map<string, number>();

const awsCounts = (server: Server, what: 'counts' | 'millis' = 'counts') =>
  Object.assign({}, ...(server.aws ?? []).map((p) => p[what]())) as Record<string, number>;

async function waitForArrivals(accepted: ReadonlyMap<string, number>): Promise<number> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  const all = () => [...accepted.keys()].every((id) => arrivals.has(id));
  while (!all() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return Math.max(0, ...[...accepted.keys()].map((id) => arrivals.get(id) ?? 0));
}

async function round(server: Server, label: string, seconds: number): Promise<Round> {
  const load: SubmissionLoad = {
    port: server.port,
    ...(server.auth ? { auth: { user: USER.address, pass: USER.pass } } : {}),
    clients: CLIENTS,
    seconds,
    size: SIZE,
    from: USER.address,
    rcpt,
    label,
  };
  const cpuBefore = server.cpu.read();
  const othersBefore = cpuSnapshot(server.others ?? []);
  const awsBefore = awsCounts(server);
  const awsMsBefore = awsCounts(server, 'millis');
  const started = performance.now();
  const result = await runSubmissionLoad(load);
  const lastArrival = await waitForArrivals(result.accepted);
  const cpuSeconds = server.cpu.read() - cpuBefore;
  const otherCpuSeconds = cpuSpent(server.others ?? [], othersBefore);
  const { latencies, missing } = endToEnd(result.accepted, arrivals);
  return {
    load: result,
    deliveredSeconds: (lastArrival - started) / 1000,
    latencies,
    missing,
    cpuSeconds,
    otherCpuSeconds,
    aws: countsSince(awsCounts(server), awsBefore),
    awsMs: countsSince(awsCounts(server, 'millis'), awsMsBefore),
  };
}

// ---------------------------------------------------------------- the servers

async function startPostern(dir: string, tls: { key: string; cert: string }, sinkPort: number) {
  const stops: (() => Promise<void> | void)[] = [];
  const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), spawnS3(join(dir, 's3'))]);
  stops.push(() => Promise.all([dynamo.stop(), s3.stop()]).then(() => {}));
  const prefix = `benchsub${randomBytes(3).toString('hex')}`;
  const names = namesWithPrefix(prefix);
  const direct = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  const db = makeDynamoClient(direct);
  const s3c = makeS3Client(direct);
  await ensureStorage(db, s3c, names);
  db.destroy();
  s3c.destroy();
  const storage = createAwsStorage({ endpoints: direct, names });
  await storage.directory.addDomain('bench.test');
  const account = await storage.directory.addAccount({
    address: USER.address,
    passwordHash: await hashPassword(USER.pass),
  });
  await storage.mail.ensureDefaultMailboxes(account.accountId);
  storage.close();
  if (DKIM) {
    const keys = localDkimKeyStore(dkimKeyDir(join(dir, 'data')));
    for (const key of generateKeySet('bench.test', [], Date.now())) await keys.add(key);
  }
  const proxies = COUNT_AWS
    ? await Promise.all([countingProxy('dynamodb', dynamo.endpoint, `${prefix}-`), countingProxy('s3', s3.endpoint)])
    : [];
  stops.unshift(() => Promise.all(proxies.map((p) => p.close())).then(() => {}));
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.key);
  const gateway = await spawnMainGateway(
    {
      AWS_ENDPOINT_URL_DYNAMODB: proxies[0]?.endpoint ?? dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: proxies[1]?.endpoint ?? s3.endpoint,
      POSTERN_TABLE_PREFIX: prefix,
      POSTERN_HOSTNAME: 'submission.bench.test',
      POSTERN_TLS_CERT_FILE: join(dir, 'cert.pem'),
      POSTERN_TLS_KEY_FILE: join(dir, 'key.pem'),
      POSTERN_ALLOW_PLAINTEXT_AUTH: '0',
      POSTERN_MAX_CONNECTIONS_PER_IP: '1000',
      POSTERN_SUBMISSION_MAX_MESSAGES_PER_HOUR: '100000000',
      POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
      POSTERN_SMARTHOST: `127.0.0.1:${sinkPort}`,
      POSTERN_SMARTHOST_TLS: 'none',
      POSTERN_DKIM_KEY_STORE: 'local',
      POSTERN_DATA_DIR: join(dir, 'data'),
    },
    PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
  );
  stops.unshift(() => gateway.stop());
  const server: Server = {
    name: 'Postern',
    port: gateway.ports.submission,
    auth: true,
    cpu: processMeter('gateway', gateway.pid),
    others: [
      ...(dynamo.process.pid === undefined ? [] : [processMeter('DynamoDB Local', dynamo.process.pid)]),
      processMeter('S3 stand-in', s3.pid),
      selfMeter('load generator, sink and AWS proxies'),
    ],
    aws: COUNT_AWS ? proxies : undefined,
  };
  return {
    server,
    async stop() {
      for (const s of stops) await s();
    },
  };
}

// ---------------------------------------------------------------- the report

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function summary(server: Server, r: Round) {
  const accepted = r.load.accepted.size;
  const awsTotal = Object.values(r.aws).reduce((a, b) => a + b, 0);
  return {
    server: server.name,
    accepted,
    refused: r.load.refused,
    missing: r.missing,
    acceptedPerSecond: accepted / r.load.seconds,
    deliveredPerSecond: (accepted - r.missing) / r.deliveredSeconds,
    submitMs: {
      p50: quantile(r.load.submitMs, 0.5),
      p90: quantile(r.load.submitMs, 0.9),
      p99: quantile(r.load.submitMs, 0.99),
    },
    endToEndMs: { p50: quantile(r.latencies, 0.5), p90: quantile(r.latencies, 0.9), p99: quantile(r.latencies, 0.99) },
    cpuMsPerMessage: (r.cpuSeconds * 1000) / accepted,
    otherCpuMsPerMessage: Object.fromEntries(
      Object.entries(r.otherCpuSeconds).map(([name, sec]) => [name, (sec * 1000) / accepted]),
    ),
    awsPerMessage: server.aws ? awsTotal / accepted : undefined,
    awsByOperation: server.aws
      ? Object.fromEntries(Object.entries(r.aws).map(([op, n]) => [op, n / accepted]))
      : undefined,
    awsMeanMs: Object.fromEntries(Object.entries(r.aws).map(([op, n]) => [op, (r.awsMs[op] ?? 0) / n])),
  };
}

function report(results: ReturnType<typeof summary>[]): void {
  console.log(
    `\n${CLIENTS} clients, ${SECONDS} s per server, ${SIZE} B bodies, to ${rcpt(0).split('@')[1]} and 4 more remote domains`,
  );
  console.log(
    table([
      [
        'server',
        'accepted msg/s',
        'delivered msg/s',
        'submit p50/p90/p99 ms',
        '250->sink p50/p90/p99 ms',
        'CPU ms/msg',
        'AWS req/msg',
        'accepted (refused, lost)',
      ],
      ...results.map((s) => [
        s.server,
        fmt(s.acceptedPerSecond),
        fmt(s.deliveredPerSecond),
        `${fmt(s.submitMs.p50)}/${fmt(s.submitMs.p90)}/${fmt(s.submitMs.p99)}`,
        `${fmt(s.endToEndMs.p50)}/${fmt(s.endToEndMs.p90)}/${fmt(s.endToEndMs.p99)}`,
        fmt(s.cpuMsPerMessage, 2),
        s.awsPerMessage === undefined ? '-' : fmt(s.awsPerMessage, 2),
        `${s.accepted} (${s.refused}, ${s.missing})`,
      ]),
    ]),
  );
  for (const s of results) {
    const others = Object.entries(s.otherCpuMsPerMessage);
    if (others.length > 0) {
      console.log(
        `  ${s.server} CPU ms per message elsewhere: ${others.map(([n, v]) => `${n} ${fmt(v, 2)}`).join(', ')}`,
      );
    }
    if (!s.awsByOperation) continue;
    const ops = Object.entries(s.awsByOperation).sort((a, b) => b[1] - a[1]);
    console.log(
      `  ${s.server} AWS requests per message (mean ms each): ${ops.map(([op, n]) => `${op} ${n.toFixed(2)} (${fmt(s.awsMeanMs[op])})`).join(', ')}`,
    );
  }
  const [p, f] = results;
  if (p && f) {
    console.log(
      `  ratio Postern/Postfix: accepted ${fmt(p.acceptedPerSecond / f.acceptedPerSecond, 2)}x, delivered ${fmt(p.deliveredPerSecond / f.deliveredPerSecond, 2)}x, ` +
        `CPU per message ${fmt(p.cpuMsPerMessage / f.cpuMsPerMessage, 2)}x, submit p50 ${fmt(p.submitMs.p50 / f.submitMs.p50, 2)}x, 250->sink p50 ${fmt(p.endToEndMs.p50 / f.endToEndMs.p50, 2)}x`,
    );
  }
}

// ---------------------------------------------------------------- the run

async function measure(server: Server): Promise<ReturnType<typeof summary>> {
  if (WARMUP > 0) await round(server, `${server.name}-warm`, WARMUP);
  const r = await round(server, server.name, SECONDS);
  if (r.load.firstError) console.log(`# ${server.name}: first refusal: ${r.load.firstError}`);
  const s = summary(server, r);
  console.log(`# ${server.name}: ${s.accepted} accepted, ${fmt(s.acceptedPerSecond)} msg/s`);
  return s;
}

export async function runSubmissionBench(): Promise<void> {
  console.log(machineLine('submission benchmark'));
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-submission-'));
  const tls = await localhostTls();
  const sink = await startSink({
    maxSize: 64 * 1024 * 1024,
    onMessage: (t) => {
      const id = benchIdOf(t.data);
      if (id) arrivals.set(id, performance.now());
    },
  });
  const results: ReturnType<typeof summary>[] = [];
  try {
    const postern = await startPostern(join(dir, 'postern'), tls, sink.port);
    try {
      results.push(await measure(postern.server));
    } finally {
      await postern.stop();
    }
    if (WITH_POSTFIX) {
      const postfix = await startPostfixSubmission({
        user: USER,
        relay: { host: '127.0.0.1', port: sink.port },
        tls,
      });
      try {
        console.log(
          `# Postfix ${postfix.version}: ${postfix.mode === 'sasl' ? 'AUTH PLAIN over STARTTLS (Cyrus SASL, sasldb)' : 'NO AUTH: relays for 127.0.0.1 (mynetworks), STARTTLS (saslpasswd2 missing: apt-get install sasl2-bin)'}`,
        );
        const server: Server = {
          name: 'Postfix',
          port: postfix.port,
          auth: postfix.mode === 'sasl',
          cpu: processMeter('postfix', postfix.masterPid(), true),
          others: [selfMeter('load generator and sink')],
        };
        results.push(await measure(server));
      } finally {
        postfix.stop();
      }
    }
    report(results);
    const jsonPath = join(tmpdir(), 'postern-bench-submission.json');
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ bench: 'submission', date: new Date().toISOString(), settings: { CLIENTS, SECONDS, SIZE, WARMUP, DKIM, COUNT_AWS }, results }, null, 2)}\n`,
    );
    console.log(`results: ${jsonPath}`);
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
