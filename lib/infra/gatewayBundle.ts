/**
 * The gateway as production runs it: lib/gateway/main.ts bundled by esbuild into ES modules (the Docker image's
 * build stage runs this file; the image holds the bundle and no node_modules), started by plain Node with
 * GATEWAY_NODE_FLAGS. The emulator (POSTERN_GATEWAY_BUNDLE=1) and the memory tests run the same bundle.
 * Split: what the gateway imports lazily (mailparser at the first submission, the emulator's mail-logic
 * functions and mailauth) is a chunk of its own that Node reads only then; one file would hold its source
 * in memory from the start (idle RSS 112 MB as one file, 93 MB split). Not minified and without a source map:
 * stack traces stay readable (names and `// lib/...` markers), and `--enable-source-maps` would parse a map of
 * the whole bundle at start (+30 MB of RSS, measured).
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { nodeBuildOptions } from './nodeBundle.ts';
import { REPO_ROOT } from './paths.ts';

export const GATEWAY_ENTRY = join(REPO_ROOT, 'lib/gateway/main.ts');
/** Where `node --import tsx lib/infra/gatewayBundle.ts` writes the bundle (the Dockerfile copies it from there). */
export const GATEWAY_BUNDLE_DIR = join(REPO_ROOT, 'dist/gateway');
/** The bundle's entry module, in its directory. */
export const GATEWAY_BUNDLE_MAIN = 'gateway.mjs';

/**
 * V8 flags of the gateway process (the Dockerfile's CMD repeats them; test/infra/gatewayBundle.test.ts checks it).
 * --max-semi-space-size=4: the young generation grows to 2 × 4 MiB instead of 2 × 16 MiB (Node 24's default on
 * 64-bit) when a session streams: `FETCH 1:* BODY[]` over 10,000 messages grew RSS by 88 MB with the default,
 * ~22 MB with 4 (test/e2e/imap-memory.test.ts); scavenges come more often, each one smaller.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** Bundles the gateway into `outdir`: GATEWAY_BUNDLE_MAIN and its chunks/. Returns the entry module's path. */
export async function bundleGateway(outdir = GATEWAY_BUNDLE_DIR): Promise<string> {
  await build({
    ...nodeBuildOptions(GATEWAY_ENTRY),
    entryPoints: { gateway: GATEWAY_ENTRY },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
  });
  return join(outdir, GATEWAY_BUNDLE_MAIN);
}

/** Node arguments that start the gateway: the bundle (built into `outdir` now) or the sources under tsx. */
export async function gatewayNodeArgs(bundled: boolean, outdir = GATEWAY_BUNDLE_DIR): Promise<string[]> {
  if (!bundled) return ['--import', 'tsx', GATEWAY_ENTRY];
  return [...GATEWAY_NODE_FLAGS, await bundleGateway(outdir)];
}

if (import.meta.url === `file://${process.argv[1]}`) await bundleGateway();
