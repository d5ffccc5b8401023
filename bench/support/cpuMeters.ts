/**
 * CPU meters: named readers of CPU seconds used so far (a process from /proc, this process), read before
 * and after a piece of work so each process's share of it can be reported apart.
 */
import { treeCpuSeconds } from './memory.ts';

export interface CpuMeter {
  readonly name: string;
  read(): number;
}

/** A process (and, with `tree`, every process below it), by pid. */
export const processMeter = (name: string, pid: number, tree = false): CpuMeter => ({
  name,
  read: () => treeCpuSeconds(pid, tree),
});

/** This process (user + system). */
export const selfMeter = (name: string): CpuMeter => ({
  name,
  read: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
});

export const cpuSnapshot = (meters: readonly CpuMeter[]): number[] => meters.map((m) => m.read());

/** CPU seconds per meter since the snapshot. */
export const cpuSpent = (meters: readonly CpuMeter[], since: readonly number[]): Record<string, number> =>
  Object.fromEntries(meters.map((m, i) => [m.name, m.read() - since[i]]));
