import { type BuildOptions, build } from 'esbuild';

/**
 * How esbuild bundles our code for Node, the one set of settings for the Lambdas (LAMBDA_BUNDLING) and the
 * gateway's image (lib/infra/gatewayBundle.ts). Free of aws-cdk-lib, so that building the gateway needs no CDK.
 */
export const NODE_BUNDLE = {
  target: 'node24',
  mainFields: ['module', 'main'],
  // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
  banner: "import { createRequire as __postern_cr } from 'node:module'; const require = __postern_cr(import.meta.url);",
} as const;

/** esbuild's options for a bundle of `entry` for Node, ES module output. */
export function nodeBuildOptions(entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_BUNDLE.target,
    mainFields: [...NODE_BUNDLE.mainFields],
    banner: { js: NODE_BUNDLE.banner },
    logLevel: 'warning',
  };
}

/** Bundles `entry` (and everything it imports) for Node into the single ES module `outfile`. */
export async function bundleForNode(entry: string, outfile: string): Promise<void> {
  await build({ ...nodeBuildOptions(entry), outfile });
}
