/**
 * The gateway's idle memory in its production form (issue #10): the bundle (lib/infra/gatewayBundle.ts) copied
 * nowhere near node_modules, started as the image starts it (plain Node, GATEWAY_NODE_FLAGS, MALLOC_ARENA_MAX=2,
 * the Lambda invoker), every listener up over the run's DynamoDB Local and S3 stand-in. Its memory is read from
 * /proc once it has been idle a few seconds: a memory bound, not a timing one.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import selfsigned from 'selfsigned';
import { EPHEMERAL_PORTS_ENV } from '../../lib/core/config.ts';
import { BUCKET_ENV, TABLE_ENV, TABLE_IDS } from '../../lib/core/schema.ts';
import { bundleGateway, GATEWAY_NODE_FLAGS } from '../../lib/infra/gatewayBundle.ts';
import { REPO_ROOT } from '../../lib/infra/paths.ts';
import { LOCAL_CREDENTIALS } from '../../lib/storage/aws/clients.ts';
import { freshNames, testEndpoints } from '../support/storage.ts';

const MB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'postern-idle-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A field of /proc/<pid>/status in bytes (VmRSS, RssAnon, RssFile). */
function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

async function startBundledGateway(): Promise<ChildProcess> {
  const main = await bundleGateway(join(dir, 'app'));
  const endpoints = await testEndpoints();
  const names = await freshNames(endpoints);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  writeFileSync(join(dir, 'cert.pem'), pems.cert, { mode: 0o600 });
  writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    MALLOC_ARENA_MAX: '2', // as the Dockerfile sets it
    ...EPHEMERAL_PORTS_ENV,
    POSTERN_HOSTNAME: 'idle.test',
    POSTERN_INVOKER: 'lambda',
    ...Object.fromEntries(['ROUTE', 'FILTER', 'STORE', 'DELIVER'].map((fn) => [`POSTERN_FN_${fn}`, 'unused'])),
    ...Object.fromEntries(TABLE_IDS.map((id) => [TABLE_ENV[id], names.tables[id]])),
    [BUCKET_ENV]: names.bucket,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb ?? '',
    AWS_ENDPOINT_URL_S3: endpoints.s3 ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    POSTERN_TLS_CERT_FILE: join(dir, 'cert.pem'),
    POSTERN_TLS_KEY_FILE: join(dir, 'key.pem'),
  };
  const gateway = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, main], {
    cwd: join(dir, 'app'),
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    gateway.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before it was ready`)));
    createInterface({ input: gateway.stdout! }).on('line', (line) => {
      if (line.includes('"msg":"ready"')) resolve();
    });
  });
  return gateway;
}

describe('gateway idle memory (issue #10)', () => {
  it('the Dockerfile starts the bundle with GATEWAY_NODE_FLAGS', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    assert.ok(cmd, 'a CMD in exec form');
    assert.deepEqual(JSON.parse(cmd[1]), ['node', ...GATEWAY_NODE_FLAGS, 'gateway.mjs']);
    assert.match(dockerfile, /^COPY --from=build \/src\/dist\/gateway\/ \.\/$/m);
  });

  it('the bundled gateway, idle with every listener up, holds at most 40 MB of private memory', async () => {
    child = await startBundledGateway();
    await new Promise((resolve) => setTimeout(resolve, 5000)); // idle: start-up garbage collected
    const pid = child.pid!;
    const [rss, anon, file] = ['VmRSS', 'RssAnon', 'RssFile'].map((f) => statusBytes(pid, f) / MB);
    console.log(`# idle gateway: RSS ${rss.toFixed(1)} MB = private ${anon.toFixed(1)} + file ${file.toFixed(1)}`);
    // The private (anonymous) part is the gateway's own: heap, code, buffers. The file part is mostly the
    // Node binary's text pages (a bare `node -e` has ~56-59 MB of them here), shared and reclaimable.
    // Measured: 28-32 MB as split bundle; 50 MB as one file; 54-89 MB for the sources under tsx.
    assert.ok(anon <= 40, `idle private RSS ${anon.toFixed(1)} MB, over 40 MB`);
  });
});
