/**
 * Memory of a process tree, read from /proc (Linux): the resident set (VmRSS) and the proportional set size
 * (Pss, shared pages split between the processes that share them), summed over the process and its
 * descendants. Sampled while a benchmark runs to find the peak.
 */
import { readdirSync, readFileSync } from 'node:fs';

function children(): Map<number, number[]> {
  const tree = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = tree.get(ppid) ?? [];
      list.push(Number(name));
      tree.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  return tree;
}

function kb(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface TreeMemory {
  readonly rss: number;
  readonly pss: number;
  readonly processes: number;
}

/** Memory of `pid` and, with `descendants`, of every process below it (`pss: false`: RSS only, PSS 0). */
export function treeMemory(pid: number, descendants: boolean, pss = true): TreeMemory {
  const pids = [pid];
  if (descendants) {
    const tree = children();
    for (let i = 0; i < pids.length; i++) pids.push(...(tree.get(pids[i]) ?? []));
  }
  let rss = 0;
  let pssSum = 0;
  for (const p of pids) {
    rss += kb(`/proc/${p}/status`, 'VmRSS');
    if (pss) pssSum += kb(`/proc/${p}/smaps_rollup`, 'Pss');
  }
  return { rss, pss: pssSum, processes: pids.length };
}

/** PSS is read at least this often while sampling, besides whenever RSS reaches a new peak. */
const PSS_INTERVAL_MS = 1000;

/**
 * Samples a process tree's memory every `intervalMs` until stopped; returns the peaks. RSS (/proc/pid/status,
 * ~15 µs) is read every time; PSS (/proc/pid/smaps_rollup: a page-table walk under the process's mmap lock,
 * 1-2 ms of CPU for a 200 MiB Node process, and the process stalls on page faults meanwhile) only when RSS
 * reaches a new peak and once a second, so measuring does not load the machine or the server measured.
 */
export function samplePeak(pid: number, descendants: boolean, intervalMs = 25): { stop(): TreeMemory } {
  let peakRss = 0;
  let peakPss = 0;
  let processes = 0;
  let pssAt = 0;
  const sample = (forcePss: boolean) => {
    const rssOnly = treeMemory(pid, descendants, false);
    const now = performance.now();
    const m =
      forcePss || rssOnly.rss > peakRss || now - pssAt >= PSS_INTERVAL_MS ? treeMemory(pid, descendants) : rssOnly;
    if (m !== rssOnly) pssAt = now;
    peakRss = Math.max(peakRss, m.rss);
    peakPss = Math.max(peakPss, m.pss);
    processes = Math.max(processes, m.processes);
  };
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample(true);
      return { rss: peakRss, pss: peakPss, processes };
    },
  };
}

/** CPU seconds (user + system) used so far by `pid` and, with `descendants`, every process below it. */
export function treeCpuSeconds(pid: number, descendants: boolean): number {
  const pids = [pid];
  if (descendants) {
    const tree = children();
    for (let i = 0; i < pids.length; i++) pids.push(...(tree.get(pids[i]) ?? []));
  }
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime (fields 14-17 of stat; index 11-14 after the comm)
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;
