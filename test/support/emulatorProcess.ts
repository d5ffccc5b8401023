/**
 * `npm start` as a child process for the emulator's e2e tests: its own process group (so a failed assertion can
 * kill the emulator, its gateways and its DynamoDB Local at once), its output kept, and a promise that resolves
 * on the ready text or rejects on exit or after `withinMs` (a hang guard, not a timed assertion).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface EmulatorProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly startMs: number;
}

export interface EmulatorStart {
  /** Environment on top of process.env (POSTERN_DATA_DIR among it). */
  readonly env: Record<string, string>;
  /** Output that means the emulator is ready. */
  readonly readyText: string;
  readonly withinMs: number;
  /** Where the child is recorded for killEmulatorGroups. */
  readonly children: Set<ChildProcess>;
}

export function startEmulatorProcess(opts: EmulatorStart): Promise<EmulatorProcess> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: root,
    env: { ...process.env, POSTERN_QUIET: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  opts.children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${opts.withinMs} ms:\n${out}`)), opts.withinMs);
    child.stdout!.on('data', () => {
      if (!out.includes(opts.readyText)) return;
      clearTimeout(timer);
      resolve({ child, output: () => out, startMs: Date.now() - started });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited ${code}:\n${out}`));
    });
  });
}

/** Kills each emulator's whole process group (it leads one: its children go too). */
export function killEmulatorGroups(children: Iterable<ChildProcess>): void {
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
