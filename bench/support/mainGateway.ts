/**
 * The real gateway program (lib/gateway/main.ts, what Fargate and the emulator run) in a process of its own,
 * bundled as the image runs it (POSTERN_GATEWAY_BUNDLE=0: the sources under tsx),
 * with the mail-logic functions and the queue's deliver step in it (POSTERN_INVOKER=local), every listener on
 * an ephemeral port. Its settings come in through the environment, as they do in production; the ports are
 * read from its `ready` log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EPHEMERAL_PORTS_ENV } from '../../lib/core/config.ts';
import { gatewayNodeArgs } from '../../lib/infra/gatewayBundle.ts';

export interface MainGateway {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ports: Record<string, number>;
  /** SIGTERM (the gateway drains and exits; a --cpu-prof profile is written then) and wait for the exit. */
  stop(): Promise<void>;
}

export async function spawnMainGateway(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  /** Each log line the gateway writes (JSON), besides the ready line. */
  onLine: (line: string) => void = () => {},
): Promise<MainGateway> {
  const outdir = mkdtempSync(join(tmpdir(), 'postern-bench-gateway-'));
  const gatewayArgs = await gatewayNodeArgs(process.env.POSTERN_GATEWAY_BUNDLE !== '0', outdir);
  const child = spawn(process.execPath, [...nodeArgs, '--no-warnings', ...gatewayArgs], {
    env: { ...process.env, POSTERN_INVOKER: 'local', ...EPHEMERAL_PORTS_ENV, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway did not start in 60 s')), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before it was ready`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"msg":"ready"')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { ports: Record<string, number> }).ports);
      } else onLine(line);
    });
  });
  return {
    child,
    pid: child.pid!,
    ports,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const exited = await Promise.race([once(child, 'exit').then(() => true), sleep(15_000).then(() => false)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
