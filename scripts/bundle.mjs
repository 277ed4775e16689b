#!/usr/bin/env node
// Bundles the CLI into one file: Node's start-up cost is dominated by module loading,
// and `berth run` sits on the container start path (bench/ measures it).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

if (existsSync('dist/cli/main.js')) {
  await build({
    entryPoints: ['dist/cli/main.js'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: 'dist/berth-cli.mjs',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
}
