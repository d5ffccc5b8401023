/**
 * `npm test` runner: starts one DynamoDB Local (in memory) and one S3 stand-in for the whole run, hands their
 * endpoints to every test file through the environment (each file then works in its own table prefix and
 * bucket), and runs the files with node's test runner. `npm run test:all -- test/unit` runs a subset.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startDynamoDbLocal } from '../local/dynamodb.ts';
import { startS3Server } from '../local/s3/server.ts';

function findTests(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => findTests(join(path, name)));
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (roots.length ? roots : ['test']).flatMap(findTests).map((f) => relative(process.cwd(), f));
const s3Dir = mkdtempSync(join(tmpdir(), 'postern-test-s3-'));
const started = Date.now();
const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startS3Server({ dataDir: s3Dir })]);
console.log(`# test services: DynamoDB Local ${dynamo.endpoint}, S3 ${s3.endpoint} (${Date.now() - started} ms)`);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${process.env.POSTERN_TEST_CONCURRENCY ?? 3}`, ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      POSTERN_TEST_DYNAMODB: dynamo.endpoint,
      POSTERN_TEST_S3: s3.endpoint,
      // Node 20 is the supported runtime here; the SDK's notice about its future support is noise in test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
);
const code: number = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
await Promise.all([dynamo.stop(), s3.close()]);
rmSync(s3Dir, { recursive: true, force: true });
process.exit(code);
