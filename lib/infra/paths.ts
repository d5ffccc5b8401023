import { fileURLToPath } from 'node:url';

/** The repository root: the Docker build context, the esbuild project root and where the lock file lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');
