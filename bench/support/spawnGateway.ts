import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import selfsigned from 'selfsigned';
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

/** A self-signed certificate for `localhost`, as every bench serves TLS with one. */
export async function localhostTls(): Promise<{ key: string; cert: string }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * The gateway the reading benches (POP3, IMAP) drive: plaintext logins on loopback, as Dovecot's side is
 * configured, and no per-address cap (all bench clients come from 127.0.0.1).
 */
export async function spawnBenchGateway(
  endpoints: GatewayProcessInput['endpoints'],
  names: GatewayProcessInput['names'],
  extraEnv: Record<string, string> = {},
  extraNodeArgs: readonly string[] = [],
): Promise<GatewayChild> {
  const env = { POSTERN_ALLOW_PLAINTEXT_AUTH: '1', POSTERN_MAX_CONNECTIONS_PER_IP: '1000' };
  return spawnGateway({ endpoints, names, tls: await localhostTls(), env }, extraEnv, extraNodeArgs);
}
