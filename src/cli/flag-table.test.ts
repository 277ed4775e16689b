import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import { declareFlags, flagNamesIn } from './flag-table.js';
import { rewriteBoolFlags } from './bool-flags.js';
import { addContainerFlags, RUN_FLAGS } from './run-flags.js';

/**
 * Parses `words` as main.ts does (bool rewrite, root → run with passThroughOptions), with
 * every run flag declared or only those the words need; returns what the action got, or
 * commander's error.
 */
function parse(words: string[], lazy: boolean): unknown {
  const args = rewriteBoolFlags(words);
  const quiet = { writeOut: () => {}, writeErr: () => {} };
  const root = new Command('berth').enablePositionalOptions().exitOverride().configureOutput(quiet);
  let got: unknown;
  const run = root.command('run').argument('<image>').argument('[command...]').passThroughOptions()
    .action((image: string, rest: string[], f: Record<string, unknown>) => { got = { image, rest, f: { ...f } }; });
  root.hook('preSubcommand', (_p, sub) => {
    if (sub !== run) return;
    addContainerFlags(sub, lazy ? args : undefined);
    sub.option('-d, --detach', 'Run container in background and print container ID');
  });
  try {
    root.parse(args, { from: 'user' });
  } catch (e) {
    // commander's "(Did you mean --x?)" line names a declared flag; main.ts prints docker's
    // one-liner without it, so only the first line counts.
    if (e instanceof CommanderError) return { code: e.code, message: e.message.split('\n')[0] };
    throw e;
  }
  return got;
}

const same = (words: string[]) => {
  const lazy = parse(words, true);
  assert.deepEqual(lazy, parse(words, false), words.join(' '));
  return lazy;
};

test('run: the flags the words name give what every flag declared gives', () => {
  const samples: string[][] = [
    ['run', '--rm', '--network', 'none', 'busybox', 'true'],
    ['run', '-it', '--name', 'web', '-e', 'A=1', '-eB=2', '--env=C=3', 'busybox', 'sh', '-c', 'echo hi'],
    ['run', '-dit', '-p', '8080:80', '--publish=9090:90', 'busybox'],
    ['run', '--pull=never', '--restart', 'always', 'busybox'],
    ['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox'],
    ['run', '--sig-proxy=false', '--rm=true', '--init=false', 'busybox'],
    ['run', '--no-sig-proxy', 'busybox'],
    ['run', '--sig-proxy', 'busybox'],
    ['run', '-e', '--rm', 'busybox'],
    ['run', 'busybox', '--rm', '-v', '/x:/y'],
    ['run', '--memory', '1g', '--cpus=0.5', '-v', '/a:/b', '--mount', 'type=tmpfs,dst=/t', '--tmpfs', '/x', 'busybox'],
    ['run', '-a', 'stdout', '-a', 'stderr', '-P', '--add-host', 'h:1.2.3.4', '--dns', '1.1.1.1', 'busybox'],
    ['run', '-l', 'a=b', '--label', 'c=d', '--read-only', '--cap-add', 'NET_ADMIN', '--cap-drop=ALL', '--privileged', 'busybox'],
    ['run', '-m', '10zz', 'busybox'],
    // commander's errors: unknown long and short flags, a missing value, a missing image.
    ['run', '--netwrk', 'none', 'busybox'],
    ['run', '-x', 'busybox'],
    ['run', '-itx', 'busybox'],
    ['run', '--name'],
    ['run'],
    ['run', '--', 'busybox', 'true'],
  ];
  for (const words of samples) same(words);
  // Defaults and negations hold when the flag is not used at all.
  const r = same(['run', 'busybox']) as { f: Record<string, unknown> };
  assert.equal(r.f.pull, 'missing');
  assert.equal(r.f.restart, 'no');
  assert.equal(r.f.healthcheck, true);
  assert.equal(r.f.sigProxy, undefined);
  assert.equal((same(['run', '--netwrk', 'busybox']) as { code: string }).code, 'commander.unknownOption');
});

test('run: each flag alone, long and short, parses as with every flag declared', () => {
  let n = 0;
  for (const [flags] of RUN_FLAGS) {
    const takesValue = /[<[]/.test(flags);
    for (const name of flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'))) {
      same(['run', name, ...(takesValue ? ['v1'] : []), 'busybox', 'x']);
      if (takesValue && name.startsWith('--')) same(['run', `${name}=v2`, 'busybox']);
      if (takesValue && !name.startsWith('--')) same(['run', `${name}v3`, 'busybox']);
      n++;
    }
  }
  assert.ok(n > RUN_FLAGS.length, `${n} names tried`);
});

test('declareFlags: few flags for a plain run, all of them for --help or no words', () => {
  const count = (words?: string[]) => declareFlags(new Command('x'), RUN_FLAGS, words).options.length;
  const all = count();
  assert.equal(all, RUN_FLAGS.length);
  assert.equal(count(['run', 'busybox', 'ls', '--help']), all);
  // --rm, --network, and the flags whose declaration alone sets a value: --pull and --restart
  // (defaults), --no-healthcheck, --sig-proxy and --no-sig-proxy (negations).
  assert.equal(count(['run', '--rm', '--network', 'none', 'busybox', 'true']), 7);
});

test('flagNamesIn: long names up to "=", every letter of a short cluster', () => {
  assert.deepEqual([...flagNamesIn(['run', '--name=x', '--rm', '-it', '-eFOO', '-', '--', 'busybox'])].sort(),
    ['--', '--name', '--rm', '-F', '-O', '-e', '-i', '-t'].sort());
});
