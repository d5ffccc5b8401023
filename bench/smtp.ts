/**
 * `npm run bench -- smtp`: inbound SMTP, end to end.
 *
 * Postern: the real gateway program (lib/gateway/main.ts) in a process of its own, with the mail-logic
 * functions in-process (as in the emulator), on DynamoDB Local and the S3 stand-in. A 250 from it means the
 * message is in S3 and indexed in every recipient's mailbox.
 * Reference: Postfix (smtpd, queue) delivering to Dovecot over LMTP (maildir), both from Debian, configured
 * in a temp dir. A 250 from Postfix means the message is in its queue; the delivered rate (into Dovecot's
 * maildir) is printed as well.
 *
 * Load: smtp-source (Debian's postfix package) with 10 parallel connections (-s 10, each kept open with -d),
 * 10 KB messages (-l 10240). Latency: a small client of our own, 10 connections, time from sending DATA to
 * the final 250 (p50/p99). Memory: the gateway's resident set when idle, its peak under load, and its peak
 * while one 50 MB message streams in (target: under 64 MB above idle).
 *
 * Needs root and the Debian packages postfix, dovecot-lmtpd (and dovecot-core); Java for DynamoDB Local.
 * BENCH_SMTP_MESSAGES (default 1000) sets the number of messages per run.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { EPHEMERAL_PORTS_ENV } from '../lib/core/config.ts';
import { hashPassword } from '../lib/core/password.ts';
import { namesWithPrefix } from '../lib/core/schema.ts';
import { gatewayNodeArgs } from '../lib/infra/gatewayBundle.ts';
import { LOCAL_CREDENTIALS, makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { freePort, waitForPort } from '../local/ports.ts';
import { startS3Server } from '../local/s3/server.ts';
import { samplePeak, treeMemory } from './support/memory.ts';
import { localhostTls } from './support/spawnGateway.ts';

const run = promisify(execFile);
const MESSAGES = Number(process.env.BENCH_SMTP_MESSAGES ?? 1000);
const SESSIONS = 10;
const SIZE = 10 * 1024;
const LATENCY_MESSAGES = 300;
const RCPT = 'user@bench.test';
const mib = (b: number) => (b / 1048576).toFixed(1);

// ---------------------------------------------------------------- a small SMTP client (latency, 50 MB)

class Client {
  private buf = '';
  private waiting: (() => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.waiting?.();
    });
    socket.on('error', () => {});
  }
  static async open(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const c = new Client(socket);
    await c.reply();
    await c.cmd('EHLO latency.bench');
    return c;
  }
  async reply(): Promise<number> {
    for (;;) {
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return Number(m[1]);
      }
      await new Promise<void>((r) => {
        this.waiting = r;
      });
    }
  }
  async cmd(line: string): Promise<number> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }
  async write(data: string | Buffer): Promise<void> {
    if (!this.socket.write(data)) await once(this.socket, 'drain');
  }
  /** One transaction; returns ms from sending DATA to the final reply. */
  async send(body: string | ((c: Client) => Promise<void>)): Promise<number> {
    if ((await this.cmd('MAIL FROM:<bench@sender.test>')) !== 250) throw new Error('MAIL refused');
    if ((await this.cmd(`RCPT TO:<${RCPT}>`)) !== 250) throw new Error('RCPT refused');
    const t = performance.now();
    if ((await this.cmd('DATA')) !== 354) throw new Error('DATA refused');
    if (typeof body === 'string') await this.write(`${body}.\r\n`);
    else await body(this);
    const code = await this.reply();
    if (code !== 250) throw new Error(`message refused: ${code}`);
    return performance.now() - t;
  }
  close(): void {
    this.socket.end('QUIT\r\n');
    setTimeout(() => this.socket.destroy(), 200).unref();
  }
}

function message(i: number, bodyBytes: number): string {
  const line = `${'La la la la la la la la la la la la la la la la la la la la la la la la la la'}\r\n`;
  const head =
    `From: <bench@sender.test>\r\nTo: <${RCPT}>\r\nSubject: bench ${i}\r\n` +
    `Message-ID: <${Date.now()}.${i}.${Math.random().toString(36).slice(2)}@sender.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  return head + line.repeat(Math.ceil(bodyBytes / line.length));
}

async function latency(port: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      const c = await Client.open(port);
      while (n < LATENCY_MESSAGES) times.push(await c.send(message(n++, SIZE)));
      c.close();
    }),
  );
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return { p50: q(0.5), p99: q(0.99) };
}

/** smtp-source: 10 sessions, MESSAGES messages of 10 KB; returns messages per second. */
async function load(port: number): Promise<{ seconds: number; rate: number }> {
  const t = performance.now();
  await run(
    'smtp-source',
    [
      '-s',
      String(SESSIONS),
      '-m',
      String(MESSAGES),
      '-l',
      String(SIZE),
      '-d',
      '-M',
      'source.bench',
      '-f',
      'bench@sender.test',
      '-t',
      RCPT,
      `127.0.0.1:${port}`,
    ],
    { maxBuffer: 1 << 24 },
  );
  const seconds = (performance.now() - t) / 1000;
  return { seconds, rate: MESSAGES / seconds };
}

// ---------------------------------------------------------------- Postern

interface Gateway {
  readonly port: number;
  readonly child: ChildProcess;
  accepted: number;
  /** Per-phase time of each delivery, from the gateway's own 'delivered' log lines (where the time goes). */
  readonly phases: { putMs: number[]; filterMs: number[]; storeMs: number[] };
  stop(): Promise<void>;
}

async function startPostern(
  dir: string,
): Promise<{ gateway: Gateway; stop(): Promise<void>; count(): Promise<number> }> {
  const [dynamo, s3] = await Promise.all([
    startDynamoDbLocal(),
    startS3Server({ dataDir: join(dir, 's3'), credentials: LOCAL_CREDENTIALS }),
  ]);
  const endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  const names = namesWithPrefix('bench');
  const db = makeDynamoClient(endpoints);
  const s3c = makeS3Client(endpoints);
  await ensureStorage(db, s3c, names);
  db.destroy();
  s3c.destroy();
  const storage = createAwsStorage({ endpoints, names });
  await storage.directory.addDomain('bench.test');
  const account = await storage.directory.addAccount({ address: RCPT, passwordHash: await hashPassword('pw') });
  await storage.mail.ensureDefaultMailboxes(account.accountId);

  const pems = await localhostTls();
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.key);
  const port = await freePort();
  const nodeArgs = process.env.POSTERN_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const gatewayArgs = await gatewayNodeArgs(process.env.POSTERN_GATEWAY_BUNDLE !== '0', join(dir, 'gateway'));
  const child = spawn(process.execPath, [...nodeArgs, ...gatewayArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      POSTERN_TABLE_PREFIX: 'bench',
      POSTERN_INVOKER: 'local',
      POSTERN_HOSTNAME: 'mx.bench.test',
      ...EPHEMERAL_PORTS_ENV,
      POSTERN_SMTP_PORT: String(port),
      POSTERN_TLS_CERT_FILE: join(dir, 'cert.pem'),
      POSTERN_TLS_KEY_FILE: join(dir, 'key.pem'),
      POSTERN_MAX_CONNECTIONS_PER_IP: '100',
      // the default SIZE is 40 MB; the memory measurement streams a 50 MB message
      POSTERN_MAX_MESSAGE_SIZE: String(64 * 1024 * 1024),
      POSTERN_LOG_LEVEL: 'info',
    },
  });
  const gateway: Gateway = {
    port,
    child,
    accepted: 0,
    phases: { putMs: [], filterMs: [], storeMs: [] },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    },
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"message accepted"')) gateway.accepted += 1;
    if (line.includes('"msg":"delivered"')) {
      const entry = JSON.parse(line) as Record<string, number>;
      for (const k of ['putMs', 'filterMs', 'storeMs'] as const) gateway.phases[k].push(entry[k]);
    }
  });
  await waitForPort('127.0.0.1', port, 30_000, () => child.exitCode === null);
  return {
    gateway,
    async count() {
      const box = await storage.mail.getMailbox(account.accountId, 'INBOX');
      return box?.messages ?? 0;
    },
    async stop() {
      await gateway.stop();
      storage.close();
      await Promise.all([dynamo.stop(), s3.close()]);
    },
  };
}

/** Streams one 50 MB message through a connection (never held whole by the client either). */
async function fiftyMegabytes(port: number): Promise<number> {
  const c = await Client.open(port);
  const line = `${'0123456789'.repeat(7)}ab\r\n`;
  const block = line.repeat(1024); // 74 KB
  const ms = await c.send(async (cl) => {
    await cl.write(message(0, 0));
    for (let sent = 0; sent < 50 * 1024 * 1024; sent += block.length) await cl.write(block);
    await cl.write('.\r\n');
  });
  c.close();
  return ms;
}

// ---------------------------------------------------------------- Postfix + Dovecot

async function startPostfixDovecot(dir: string): Promise<{ port: number; delivered(): number; stop(): Promise<void> }> {
  if (process.getuid?.() !== 0) throw new Error('the Postfix/Dovecot comparison needs root');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(join(dir, '..'), 0o755);
  const port = await freePort();
  const lmtpPort = await freePort();
  const mail = join(dir, 'mail');
  mkdirSync(join(mail, 'user', 'new'), { recursive: true });
  for (const d of ['cur', 'tmp']) mkdirSync(join(mail, 'user', d), { recursive: true });
  mkdirSync(join(dir, 'home'));
  spawnSync('chown', ['-R', '65534:65534', mail, join(dir, 'home')]);
  const dconf = join(dir, 'dovecot.conf');
  writeFileSync(
    dconf,
    `protocols = lmtp
listen = 127.0.0.1
base_dir = ${dir}/dovecot-run
state_dir = ${dir}/dovecot-state
log_path = ${dir}/dovecot.log
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 65534
first_valid_gid = 65534
mail_location = maildir:${mail}/%n
lmtp_save_to_detail_mailbox = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/home/%n allow_all_users=yes
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  const dovecot = spawn('dovecot', ['-F', '-c', dconf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort('127.0.0.1', lmtpPort, 20_000, () => dovecot.exitCode === null);

  const pf = join(dir, 'postfix');
  mkdirSync(pf);
  mkdirSync(join(dir, 'queue'));
  mkdirSync(join(dir, 'data'));
  chownSync(join(dir, 'data'), Number(spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim()), 0);
  const master = readFileSync('/etc/postfix/master.cf', 'utf8').replace(/^smtp\s+inet.*$/m, '#$&');
  writeFileSync(join(pf, 'master.cf'), `${master}\n127.0.0.1:${port} inet n - n - - smtpd\n`);
  writeFileSync(
    join(pf, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
maillog_file_prefixes = /tmp, /var
maillog_file = ${dir}/postfix.log
myhostname = pf.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = bench.test
virtual_mailbox_maps = static:ok
virtual_transport = lmtp:inet:127.0.0.1:${lmtpPort}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
message_size_limit = 41943040
biff = no
`,
  );
  spawnSync('postfix', ['-c', pf, 'check'], { stdio: 'ignore' });
  const started = spawnSync('postfix', ['-c', pf, 'start'], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`postfix did not start: ${started.stderr}`);
  await waitForPort('127.0.0.1', port, 20_000);
  const newDir = join(mail, 'user', 'new');
  return {
    port,
    delivered: () => readdirSync(newDir).length,
    async stop() {
      spawnSync('postfix', ['-c', pf, 'stop'], { stdio: 'ignore' });
      dovecot.kill('SIGTERM');
      await Promise.race([once(dovecot, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t = performance.now();
  while (!(await check())) {
    if (performance.now() - t > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - t;
}

// ---------------------------------------------------------------- the run

export async function runSmtpBench(): Promise<void> {
  for (const tool of ['smtp-source', 'postfix', 'dovecot']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is not installed (apt-get install postfix dovecot-lmtpd)`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-smtp-'));
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`# SMTP inbound benchmark: ${MESSAGES} messages of ${SIZE / 1024} KB, ${SESSIONS} connections (smtp-source -d)`);

  // --- Postern
  const postern = await startPostern(join(dir, 'postern'));
  const pid = postern.gateway.child.pid!;
  try {
    for (let i = 0; i < 3; i++) {
      const c = await Client.open(postern.gateway.port);
      await c.send(message(i, SIZE)); // warm up: JIT, connections to DynamoDB and S3
      c.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    const idle = treeMemory(pid, false).rss;
    const before = await postern.count();
    const sampler = samplePeak(pid, false);
    const p = await load(postern.gateway.port);
    const peakLoad = sampler.stop().rss;
    const indexed = (await postern.count()) - before;
    const phases = postern.gateway.phases;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    say('');
    say('Postern (gateway process + in-process functions, DynamoDB Local, S3 stand-in)');
    say(
      `  accepted:           ${p.rate.toFixed(1)} msg/s (${MESSAGES} in ${p.seconds.toFixed(1)} s; ${indexed} indexed, 250 = stored and indexed)`,
    );
    say(
      `  where the time goes (median per message): S3 upload ${median(phases.putMs)} ms, filter ${median(phases.filterMs)} ms, store ${median(phases.storeMs)} ms`,
    );
    say(
      `  gateway RSS:        idle ${mib(idle)} MB, peak under load ${mib(peakLoad)} MB (+${mib(peakLoad - idle)} MB)`,
    );
    const lat = await latency(postern.gateway.port);
    say(
      `  DATA-to-250:        p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms (${LATENCY_MESSAGES} messages, ${SESSIONS} connections)`,
    );
    const idle2 = treeMemory(pid, false).rss;
    const bigSampler = samplePeak(pid, false);
    const bigMs = await fiftyMegabytes(postern.gateway.port);
    const peakBig = bigSampler.stop().rss;
    say(
      `  50 MB message:      accepted in ${(bigMs / 1000).toFixed(1)} s, peak RSS ${mib(peakBig)} MB (+${mib(peakBig - idle2)} MB above idle; target < 64 MB)`,
    );
    (globalThis as { __posternRate?: number }).__posternRate = p.rate;
    (globalThis as { __posternLat?: number }).__posternLat = lat.p50;
  } finally {
    await postern.stop();
  }

  // --- Postfix + Dovecot
  const ref = await startPostfixDovecot(join(dir, 'postfix'));
  try {
    const c = await Client.open(ref.port);
    await c.send(message(0, SIZE));
    c.close();
    await waitFor(() => ref.delivered() >= 1, 30_000);
    const base = ref.delivered();
    const t = performance.now();
    const r = await load(ref.port);
    await waitFor(() => ref.delivered() - base >= MESSAGES, 300_000);
    const deliveredRate = MESSAGES / ((performance.now() - t) / 1000);
    const lat = await latency(ref.port);
    const version = spawnSync('postconf', ['-h', 'mail_version'], { encoding: 'utf8' }).stdout.trim();
    const dv = spawnSync('dovecot', ['--version'], { encoding: 'utf8' }).stdout.trim();
    say('');
    say(`Postfix ${version} -> LMTP -> Dovecot ${dv}`);
    say(`  accepted:           ${r.rate.toFixed(1)} msg/s (${MESSAGES} in ${r.seconds.toFixed(1)} s; 250 = queued)`);
    say(`  delivered:          ${deliveredRate.toFixed(1)} msg/s (all ${MESSAGES} in Dovecot's maildir)`);
    say(`  DATA-to-250:        p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms`);
    const g = globalThis as { __posternRate?: number; __posternLat?: number };
    say('');
    say(
      `Ratio Postern / Postfix+Dovecot: accepted ${(g.__posternRate! / r.rate).toFixed(2)}x, vs delivered ${(g.__posternRate! / deliveredRate).toFixed(2)}x; DATA-to-250 p50 ${(g.__posternLat! / lat.p50).toFixed(2)}x`,
    );
  } finally {
    await ref.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
