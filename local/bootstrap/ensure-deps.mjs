// Runs before `npm start`, `npm test` and `npm run bench` (npm's pre-scripts), on whatever Node runs npm: after
// a fresh clone it installs the locked dependencies (`npm ci`), Node 24 among them, so the quick start is two
// commands. Plain JavaScript on purpose: nothing is installed yet when it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
const installed = join(root, 'node_modules', '.package-lock.json');

/** Whether node_modules holds what package-lock.json asks for (npm keeps its own copy of the lock there). */
function upToDate() {
  if (!existsSync(installed) || !existsSync(join(root, 'node_modules', 'node', 'bin'))) return false;
  const want = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(installed, 'utf8')).packages ?? {};
  // optional packages are other platforms' binaries (esbuild's, biome's): absent here by design
  return Object.entries(want).every(
    ([path, pkg]) => path === '' || pkg.optional || have[path]?.version === pkg.version,
  );
}

if (!upToDate()) {
  process.stderr.write('postern: installing the locked dependencies (npm ci), Node 24 among them ...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
