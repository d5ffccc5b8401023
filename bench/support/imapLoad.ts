/**
 * The two IMAP workloads, server-agnostic (the same client code and bytes for Postern and Dovecot):
 *
 * - mixed: each client (one account, an INBOX of `messages` messages) loops until the deadline over SELECT,
 *   FETCH of a window of messages (UID FLAGS RFC822.SIZE and five header fields, as a client's message list
 *   does), STORE +FLAGS/-FLAGS (\Flagged) on that window, APPEND of a new message, UID STORE \Deleted on it
 *   and EXPUNGE, so the mailbox keeps its size. The window moves by its width each loop. A loop that started
 *   finishes (every client's mailbox stays as it was); the rate is commands over the time until the last
 *   client finished.
 * - big: SELECT, `UID FETCH 1:* (FLAGS)` and `FETCH 1:* (ENVELOPE BODYSTRUCTURE)` on one big mailbox, each
 *   timed with the server's CPU around it.
 */
import { type CpuMeter, cpuSnapshot, cpuSpent } from './cpuMeters.ts';
import { appendUid, ImapBenchClient, quoted, type Reply } from './imapClient.ts';
import { benchMessage } from './imapCorpus.ts';
import { samplePeak, type TreeMemory } from './memory.ts';

export interface BenchServer {
  readonly name: string;
  readonly port: number;
  /** The server's process (Dovecot: its master, counted with every process below it). */
  readonly pid: number;
  readonly tree: boolean;
  /** The server's own CPU first, then the other processes whose CPU is reported apart (emulators ...). */
  readonly meters: readonly CpuMeter[];
}

export interface BenchUser {
  readonly user: string;
  readonly pass: string;
}

export const MIXED_COMMANDS = ['SELECT', 'FETCH', 'STORE', 'APPEND', 'STORE-DELETED', 'EXPUNGE'] as const;
export type MixedCommand = (typeof MIXED_COMMANDS)[number];

export interface MixedRound {
  readonly seconds: number;
  readonly commands: number;
  /** Latencies in ms per command type. */
  readonly latency: Record<MixedCommand, number[]>;
  /** CPU seconds per meter (the server's first). */
  readonly cpu: Record<string, number>;
  readonly memory: TreeMemory;
}

export async function login(port: number, u: BenchUser): Promise<ImapBenchClient> {
  const c = await ImapBenchClient.connect(port);
  await c.ok(`LOGIN ${quoted(u.user)} ${quoted(u.pass)}`);
  return c;
}

const countMatching = (r: Reply, re: RegExp) => r.untagged.filter((l) => re.test(l)).length;

/** One client's loops until the deadline. */
async function mixedClient(
  c: ImapBenchClient,
  owner: string,
  messages: number,
  window: number,
  deadline: number,
  latency: Record<MixedCommand, number[]>,
  loopOffset: number,
): Promise<number> {
  let done = 0;
  const timed = async (kind: MixedCommand, line: string, opts?: { literal?: Buffer }) => {
    const t = performance.now();
    const r = await c.ok(line, opts);
    latency[kind].push(performance.now() - t);
    done++;
    return r;
  };
  for (let loop = loopOffset; performance.now() < deadline; loop++) {
    const first = ((loop * window) % messages) + 1;
    const last = Math.min(first + window - 1, messages);
    const add = Math.floor((loop * window) / messages) % 2 === 0;
    await timed('SELECT', 'SELECT INBOX');
    const fetched = await timed(
      'FETCH',
      `FETCH ${first}:${last} (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])`,
    );
    if (countMatching(fetched, / FETCH /) < last - first + 1) throw new Error(`${owner}: FETCH answered too little`);
    await timed('STORE', `STORE ${first}:${last} ${add ? '+' : '-'}FLAGS (\\Flagged)`);
    const appended = await timed('APPEND', 'APPEND INBOX (\\Seen)', { literal: benchMessage(owner, loop) });
    const uid = appendUid(appended);
    if (uid === undefined) throw new Error(`${owner}: APPEND without APPENDUID: ${appended.text}`);
    await timed('STORE-DELETED', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    const expunged = await timed('EXPUNGE', 'EXPUNGE');
    if (countMatching(expunged, /^\* \d+ EXPUNGE/) !== 1) throw new Error(`${owner}: EXPUNGE removed not one`);
  }
  return done;
}

/** One mixed round: every user logs in (not timed), the loops run for `seconds`, then everyone logs out. */
export async function mixedRound(
  server: BenchServer,
  users: readonly BenchUser[],
  opts: { seconds: number; messages: number; window: number; loopOffset: number },
): Promise<MixedRound> {
  const clients = await Promise.all(users.map((u) => login(server.port, u)));
  const latency = Object.fromEntries(MIXED_COMMANDS.map((k) => [k, [] as number[]])) as Record<MixedCommand, number[]>;
  const cpu0 = cpuSnapshot(server.meters);
  const sampler = samplePeak(server.pid, server.tree);
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const counts = await Promise.all(
    clients.map((c, i) =>
      mixedClient(c, users[i].user, opts.messages, opts.window, deadline, latency, opts.loopOffset),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSpent(server.meters, cpu0);
  const memory = sampler.stop();
  await Promise.all(clients.map((c) => c.logout()));
  return { seconds, commands: counts.reduce((a, b) => a + b, 0), latency, cpu, memory };
}

export const BIG_COMMANDS = {
  SELECT: 'SELECT INBOX',
  'UID FETCH 1:* (FLAGS)': 'UID FETCH 1:* (FLAGS)',
  'FETCH 1:* (ENVELOPE BODYSTRUCTURE)': 'FETCH 1:* (ENVELOPE BODYSTRUCTURE)',
} as const;
export type BigCommand = keyof typeof BIG_COMMANDS;

export interface BigTiming {
  readonly ms: number;
  readonly cpu: Record<string, number>;
  readonly bytes: number;
  readonly lines: number;
}

export interface BigPass {
  readonly timings: Record<BigCommand, BigTiming>;
  readonly memory: TreeMemory;
}

/** One pass over the big mailbox: log in, then each command timed alone. */
export async function bigPass(server: BenchServer, user: BenchUser, expected: number): Promise<BigPass> {
  const c = await login(server.port, user);
  const sampler = samplePeak(server.pid, server.tree);
  const timings = {} as Record<BigCommand, BigTiming>;
  try {
    for (const [name, line] of Object.entries(BIG_COMMANDS) as [BigCommand, string][]) {
      const cpu0 = cpuSnapshot(server.meters);
      const t = performance.now();
      const r = await c.ok(line, { keep: name === 'SELECT' });
      const ms = performance.now() - t;
      timings[name] = { ms, cpu: cpuSpent(server.meters, cpu0), bytes: r.bytes, lines: r.lines };
      if (name === 'SELECT' && !r.untagged.some((l) => l === `* ${expected} EXISTS`))
        throw new Error(`${server.name}: the big mailbox does not hold ${expected} messages`);
      if (name !== 'SELECT' && r.lines < expected)
        throw new Error(`${server.name}: ${name} answered ${r.lines} lines for ${expected} messages`);
    }
  } finally {
    await c.logout();
  }
  return { timings, memory: sampler.stop() };
}
