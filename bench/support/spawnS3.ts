import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

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
  let out = '';
  const ready = await new Promise<{ pid: number; endpoint: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('S3 stand-in process did not start in 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`S3 stand-in process exited (${code}) before listening`));
    });
  });
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
