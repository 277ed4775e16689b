import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { makeContext } from './context.js';
import { ALL, buildProgram, GROUPS, selectCommand, VERSION_ONLY } from './program.js';

const build = (command: string) => buildProgram({ command, ctx: makeContext, report: () => { /* not run */ } });

/** Every command's help, keyed by its path, for the whole tree under `cmd`. */
function helpTree(cmd: Command, path: string, out = new Map<string, string>()): Map<string, string> {
  out.set(path, cmd.helpInformation());
  for (const sub of cmd.commands) helpTree(sub, `${path} ${sub.name()}`, out);
  return out;
}

test('the lazy table lists every top-level command exactly once, and nothing else', async () => {
  const full = await build(ALL);
  const declared = full.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort();
  const listed = GROUPS.flatMap(([names]) => [...names]).sort();
  assert.deepEqual(listed, declared);
  assert.equal(new Set(listed).size, listed.length);
});

test('building one command declares exactly its group, with the same help as the full program', async () => {
  const full = await build(ALL);
  for (const [names] of GROUPS) {
    for (const name of names) {
      const partial = await build(name);
      assert.deepEqual(partial.commands.map((c) => c.name()), full.commands.filter((c) => names.includes(c.name())).map((c) => c.name()), name);
      for (const c of partial.commands) {
        const twin = full.commands.find((f) => f.name() === c.name())!;
        assert.deepEqual(helpTree(c, c.name()), helpTree(twin, twin.name()), `help of ${c.name()} (built for ${name})`);
      }
    }
  }
});

test('selectCommand: the command word after root flags, else the whole program', () => {
  assert.equal(selectCommand(['run', '--rm', 'busybox']), 'run');
  assert.equal(selectCommand(['-H', 'unix:///x.sock', '-D', 'container', 'ls']), 'container');
  assert.equal(selectCommand(['--host=unix:///x.sock', 'ps']), 'ps');
  assert.equal(selectCommand(['-Hunix:///x.sock', 'images']), 'images');
  assert.equal(selectCommand(['--version']), VERSION_ONLY);
  assert.equal(selectCommand(['version']), 'version');
  assert.equal(selectCommand(['-v', '-H', 'x']), VERSION_ONLY);
  assert.equal(selectCommand(['-v', 'run', 'busybox']), 'run');
  // Unknown or help-ish input: commander's own errors and the root help need everything.
  for (const argv of [[], ['--help'], ['-h'], ['nosuch'], ['help'], ['--', 'run'], ['-Dv'], ['--bogus', 'run'], ['-D'], ['-H']]) {
    assert.equal(selectCommand(argv), ALL, argv.join(' '));
  }
});

test('the version-only program answers --version without declaring commands', async () => {
  const p = await build(VERSION_ONLY);
  assert.equal(p.commands.length, 0);
});
