import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { firstJsonLine } from './childReady.ts';
import type { GatewayProcessInput } from './gatewayProcess.ts';

export interface GatewayChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ports: Record<string, number>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: the task dies without cleaning up (no lease released). */
  kill(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./gatewayProcess.ts', import.meta.url));

/** Starts bench/support/gatewayProcess.ts and waits for its listening ports. */
export async function spawnGateway(
  input: GatewayProcessInput,
  /** Process environment (MALLOC_ARENA_MAX ...); the gateway's settings go in input.env. */
  extraEnv: Record<string, string> = {},
  /** Node flags (a benchmark's profiling switch), after those of POSTERN_GATEWAY_NODE_ARGS. */
  extraNodeArgs: readonly string[] = [],
): Promise<GatewayChild> {
  // POSTERN_GATEWAY_NODE_ARGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway.
  const nodeArgs = [...(process.env.POSTERN_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean), ...extraNodeArgs];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--no-warnings', SCRIPT], {
    env: { ...process.env, ...extraEnv, POSTERN_GATEWAY_PROCESS: JSON.stringify(input) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await firstJsonLine<{ pid: number; ports: Record<string, number> }>(child, 'gateway process');
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const wait = async () => {
    if (!exited()) await once(child, 'exit');
  };
  return {
    child,
    pid: ready.pid,
    ports: ready.ports,
    async stop() {
      if (exited()) return;
      child.kill('SIGTERM');
      await wait();
    },
    async kill() {
      if (exited()) return;
      child.kill('SIGKILL');
      await wait();
    },
  };
}
