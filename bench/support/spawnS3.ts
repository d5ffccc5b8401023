import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { firstJsonLine } from './childReady.ts';

export interface S3Child {
  readonly pid: number;
  readonly endpoint: string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./s3Process.ts', import.meta.url));

/** Starts bench/support/s3Process.ts (the S3 stand-in alone in a process) and waits for its endpoint. */
export async function spawnS3(dataDir: string): Promise<S3Child> {
  // POSTERN_S3_NODE_ARGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the stand-in.
  const nodeArgs = (process.env.POSTERN_S3_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--no-warnings', SCRIPT], {
    env: { ...process.env, POSTERN_S3_PROCESS: JSON.stringify({ dataDir }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await firstJsonLine<{ pid: number; endpoint: string }>(child, 'S3 stand-in process');
  return {
    pid: ready.pid,
    endpoint: ready.endpoint,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
