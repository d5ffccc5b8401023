/**
 * Where a CPU profile's time went: `node --import tsx bench/support/cpuProfileTop.ts <file.cpuprofile> [n]`
 * prints the top functions by self time, and the time by file (self time of every function in it) and by
 * package, so a benchmark's profile (BENCH_IMAP_PROFILE, POSTERN_GATEWAY_NODE_ARGS=--cpu-prof) reads in
 * a few lines.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Self milliseconds per key, largest first. */
export function selfTime(profile: Profile, keyOf: (n: ProfileNode) => string): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const key = keyOf(node);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

/** Inclusive milliseconds per key over the frames `keep` selects (each key counted once per sample). */
export function totalTime(
  profile: Profile,
  keyOf: (n: ProfileNode) => string,
  keep: (n: ProfileNode) => boolean,
): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node && keep(node)) seen.add(keyOf(node));
    }
    for (const key of seen) totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'npm:')
    .replace(/^\/work\/[^/]+\/[^/]+\//, '');
const packageOf = (url: string) => {
  const s = shortUrl(url);
  if (s === '') return '(native/idle)';
  if (s.startsWith('npm:')) {
    const parts = s.slice(4).split('/');
    return `npm:${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (s.startsWith('node:')) return 'node internals';
  return s.split('/').slice(0, 2).join('/');
};

function print(title: string, rows: [string, number][], total: number, n: number) {
  console.log(`\n${title}`);
  for (const [k, v] of rows.slice(0, n))
    console.log(`${v.toFixed(0).padStart(8)} ms ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

if (process.argv[1]?.endsWith('cpuProfileTop.ts')) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuProfileTop.ts <file.cpuprofile> [n]');
    process.exit(2);
  }
  const n = Number(count ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const fn = (x: ProfileNode) =>
    `${x.callFrame.functionName || '(anonymous)'} ${shortUrl(x.callFrame.url)}:${x.callFrame.lineNumber + 1}`;
  console.log(`profile ${file}: ${total.toFixed(0)} ms sampled`);
  print('by function (self)', selfTime(profile, fn), total, n);
  print(
    'by file (self)',
    selfTime(profile, (x) => shortUrl(x.callFrame.url) || x.callFrame.functionName),
    total,
    n,
  );
  print(
    'by package (self)',
    selfTime(profile, (x) => packageOf(x.callFrame.url)),
    total,
    n,
  );
  const ours = (x: ProfileNode) => /\/(lib|bench)\//.test(x.callFrame.url) && !x.callFrame.url.includes('node_modules');
  print("Postern's functions (inclusive)", totalTime(profile, fn, ours), total, n);
}
