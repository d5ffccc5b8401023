/**
 * Each Lambda as it is deployed: functions/<name>/index.ts bundled by esbuild with the stack's options
 * (NODE_BUNDLE, which LAMBDA_BUNDLING uses), written outside the repository so no node_modules can be
 * found, then loaded by a fresh Node. A module left to run time (a createRequire() call esbuild cannot follow) would crash every cold start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bundleForNode } from '../../lib/infra/nodeBundle.ts';
import { REPO_ROOT } from '../../lib/infra/paths.ts';

const out = mkdtempSync(join(tmpdir(), 'postern-bundle-'));
after(() => rmSync(out, { recursive: true, force: true }));

const names = readdirSync(join(REPO_ROOT, 'functions'));

describe('Lambda bundles', () => {
  it('covers the six functions', () => {
    assert.deepEqual([...names].sort(), [
      'certrenew',
      'clientconfig',
      'deliver',
      'filter',
      'notify',
      'route',
      'sesfeedback',
      'store',
    ]);
  });

  for (const name of names) {
    it(`${name}: the bundle loads with no node_modules and exports its handler`, async () => {
      const outfile = join(out, `${name}.mjs`);
      await bundleForNode(join(REPO_ROOT, 'functions', name, 'index.ts'), outfile);
      const run = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(outfile)}); console.log(typeof m.handler);`,
        ],
        { cwd: out, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'function');
    });
  }
});
