/**
 * `npm test` runner: starts one DynamoDB Local (in memory) and one S3 stand-in for the whole run, hands their
 * endpoints to every test file through the environment (each file then works in its own table prefix and
 * bucket), and runs the files with node's test runner. `npm run test:all -- test/unit` runs a subset.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startTestServices } from './support/services.ts';

function findTests(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => findTests(join(path, name)));
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
// Options such as --test-name-pattern=... go to node's test runner.
const runnerOptions = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (roots.length ? roots : ['test']).flatMap(findTests).map((f) => relative(process.cwd(), f));
const started = Date.now();
const services = await startTestServices();
const { dynamodb, s3 } = services.endpoints;
console.log(`# test services: DynamoDB Local ${dynamodb}, S3 ${s3} (${Date.now() - started} ms)`);

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.POSTERN_TEST_CONCURRENCY ?? 3}`,
    // A test that hangs fails after this instead of holding the run (and CI) forever.
    '--test-timeout=300000',
    ...runnerOptions,
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...withoutAwsIdentity(process.env),
      POSTERN_TEST_DYNAMODB: dynamodb,
      POSTERN_TEST_S3: s3,
    },
  },
);
const code: number = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await services.stop();
process.exit(code);

/**
 * The test clients sign with the stand-in's test key pair; a developer's own AWS identity in the environment
 * would make them use that instead (and the S3 stand-in refuse it).
 */
function withoutAwsIdentity(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ...rest } = env;
  return rest;
}
