/** What every benchmark's report prints the same way: the machine it ran on, and aligned text tables. */
import { cpus, loadavg } from 'node:os';

/** The first line of a run: cores and load, because a shared machine makes absolute numbers noisy. */
export function machineLine(title: string): string {
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  return `# ${title} on ${cpus().length} cores, load average ${load} (a shared machine makes absolute numbers noisy; the ratio is what counts)`;
}

/** Rows as columns padded to the widest cell; the first row is the heading. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ')).join('\n');
}
