#!/usr/bin/env node
// Bundles the CLI: Node's start-up cost is dominated by module loading, and `berth run`
// sits on the container start path (bench/ measures it). Outputs, all in dist/:
//   berth-cli.cjs        the CLI, one CommonJS file (Node 20's CJS loader starts faster than
//                        its ESM loader, and vm.Script can cache the code of a script)
//   berth-launch.cjs     what bin/berth requires: runs berth-cli.cjs with its code cache
//                        (src/cli/code-cache.ts)
//   berth-cli.cjs.cache  that V8 code cache, made here by a first `berth run`
//   berth-cli.mjs        the same CLI for `node dist/berth-cli.mjs` (tests, scripts)
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

if (existsSync('dist/cli/main.js')) {
  // commander loads node:child_process at its top for executable subcommands, which berth
  // has none of: ~2 ms of every CLI start. Its three spawn calls get the module on use.
  const lazyChildProcess = {
    name: 'lazy-child-process',
    setup(b) {
      b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        const eager = "const childProcess = require('node:child_process');";
        if (!src.includes(eager)) throw new Error(`bundle: ${args.path} no longer has ${eager}: update the lazy-child-process plugin`);
        return { contents: src.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
      });
    },
  };
  // Whitespace and syntax minified, names kept (stack traces still name functions): a third
  // less source to read, checksum and turn into a string at every start (measured: `berth
  // --version` 26.0 -> 24.7 ms, `berth run` ~1 ms).
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', plugins: [lazyChildProcess], minifyWhitespace: true, minifySyntax: true };
  await build({
    ...common,
    entryPoints: ['dist/cli/main.js'],
    outfile: 'dist/berth-cli.cjs',
    // import.meta.url in CommonJS: the bundle's own URL (autostart finds bin/berthd from it),
    // made on use (node:url's pathToFileURL is ~0.1 ms of every start otherwise).
    define: { 'import.meta.url': '__berth_import_meta.url' },
    banner: { js: "const __berth_import_meta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  });
  // The launcher reads the bundle as latin1 (a byte per character, no UTF-8 decoding: ~0.3 ms
  // of every start), which is only right for ASCII. esbuild escapes non-ASCII text except in
  // regular expression literals: write those characters as \uXXXX in the source.
  const cli = await readFile('dist/berth-cli.cjs');
  const high = cli.findIndex((b) => b > 0x7f);
  if (high >= 0) {
    throw new Error(`bundle: dist/berth-cli.cjs has a non-ASCII byte at ${high} (…${cli.subarray(Math.max(0, high - 40), high + 10).toString()}…): escape it as \\uXXXX in the source`);
  }
  await build({ ...common, entryPoints: ['dist/cli/launch.js'], outfile: 'dist/berth-launch.cjs' });
  writeFileSync('dist/berth-cli.mjs', [
    '// The berth CLI for `node dist/berth-cli.mjs` (scripts/bundle.mjs): bin/berth loads the same launcher.',
    "import { createRequire } from 'node:module';",
    "createRequire(import.meta.url)('./berth-launch.cjs');",
    '',
  ].join('\n'));
  // The code cache: V8 keeps the bytecode of every function the run that writes it ran, so
  // it is made by the command it is for, `berth run --rm` (against the CLI tests' fake
  // daemon, which answers create/attach/wait/start like berthd). Measured: 7 ms less per
  // `berth run` than a cache made by `berth run --help`. Other commands compile the rest
  // on first use; a stale cache is rewritten by the next command that runs.
  rmSync('dist/berth-cli.cjs.cache', { force: true });
  const { startFakeDaemon } = await import(pathToFileURL(resolve('dist/cli/fake-daemon.js')).href);
  const tmp = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
  const fake = await startFakeDaemon(join(tmp, 'api.sock'));
  try {
    // Async: the fake daemon answers from this process's event loop.
    await promisify(execFile)(process.execPath, ['dist/berth-launch.cjs', 'run', '--rm', '--network', 'none', 'busybox', 'exit', '0'], {
      env: { ...process.env, BERTH_HOST: `unix://${fake.socketPath}` },
      timeout: 30_000,
    });
  } finally {
    await fake.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync('dist/berth-cli.cjs.cache')) throw new Error('bundle: the CLI wrote no code cache (dist/berth-cli.cjs.cache)');
}
