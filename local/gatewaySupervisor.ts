/**
 * Keeps the emulator's gateway running, as ECS keeps a Fargate task running: when the gateway process dies
 * it is started again, after a pause that doubles with each quick failure (1 s up to 30 s) and resets once a
 * run has lasted a minute. A gateway that exits with status 2 (bad configuration) is not restarted: it would
 * fail the same way forever.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SupervisorOptions {
  /** Starts one gateway process (stdout piped: its JSON log lines). */
  readonly start: () => ChildProcess;
  /** Each line the gateway writes on stdout. */
  readonly onLine: (line: string) => void;
  /** The supervisor's own messages for the operator. */
  readonly say: (line: string) => void;
  /** Called when the supervisor gives up (a configuration error). */
  readonly onGiveUp: (code: number) => void;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A run that lasted this long resets the pause to firstDelayMs. */
  readonly stableMs?: number;
}

/** The exit status of lib/gateway/main.ts for a configuration it refuses. */
const CONFIG_ERROR_EXIT = 2;

export interface GatewaySupervisor {
  /** The running gateway process, if any. */
  readonly current: ChildProcess | undefined;
  /** How many times the gateway was started again. */
  readonly restarts: number;
  /** Stops supervising and the gateway (SIGTERM, then SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
}

export function superviseGateway(opts: SupervisorOptions): GatewaySupervisor {
  const firstDelay = opts.firstDelayMs ?? 1000;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const stableMs = opts.stableMs ?? 60_000;
  let delay = firstDelay;
  let current: ChildProcess | undefined;
  let restarts = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const run = () => {
    const started = Date.now();
    const child = opts.start();
    current = child;
    if (child.stdout) createInterface({ input: child.stdout }).on('line', opts.onLine);
    child.once('exit', (code, signal) => {
      if (current === child) current = undefined;
      if (stopped) return;
      if (code === CONFIG_ERROR_EXIT) {
        opts.say(`postern: the gateway refused its configuration (exit ${code}); stopping`);
        opts.onGiveUp(code);
        return;
      }
      if (Date.now() - started >= stableMs) delay = firstDelay;
      opts.say(`postern: the gateway exited (${signal ?? `code ${code}`}); starting it again in ${delay} ms`);
      timer = setTimeout(() => {
        restarts += 1;
        run();
      }, delay);
      delay = Math.min(delay * 2, maxDelay);
    });
  };
  run();

  return {
    get current() {
      return current;
    },
    get restarts() {
      return restarts;
    },
    async stop(graceMs = 5000) {
      stopped = true;
      clearTimeout(timer);
      const child = current;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(kill);
    },
  };
}
