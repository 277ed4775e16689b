import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { DOCKER_HELP, wrap } from './help.js';

function program(): Command {
  const p = new Command('berth').configureHelp(DOCKER_HELP);
  const g = p.command('thing').description('Manage things').usage('COMMAND');
  g.command('zap').description('Zap a thing');
  g.command('ls').alias('list').description('List things')
    .option('-q, --quiet', 'Only display IDs')
    .option('-d, --driver <string>', 'Driver name', 'local')
    .option('-H, --human', 'Human sizes (default true)')
    .option('--no-human', 'Raw sizes')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-f, --filter <filter>', 'Provide filter values for the listing, one key=value pair per flag, repeatable as often as needed');
  return p;
}

test('a group: sorted commands padded to 11, the COMMAND --help line', () => {
  const g = program().commands[0]!;
  assert.equal(g.helpInformation(),
    'Usage:  berth thing COMMAND\n\nManage things\n\nCommands:\n  ls          List things\n  zap         Zap a thing\n\n' +
    "Run 'berth thing COMMAND --help' for more information on a command.\n");
});

test('a leaf: aliases, flags by long name with pflag types and defaults, --no-x folded into -x, wrapped at 79', () => {
  const ls = program().commands[0]!.commands.find((c) => c.name() === 'ls')!;
  assert.equal(ls.helpInformation(), [
    'Usage:  berth thing ls [OPTIONS]', '', 'List things', '', 'Aliases:', '  berth thing ls, berth thing list', '', 'Options:',
    '  -d, --driver string   Driver name (default "local")',
    // 50 columns of text: "…, one key=value" would be 52.
    '  -f, --filter filter   Provide filter values for the listing, one',
    '                        key=value pair per flag, repeatable as often as needed',
    '  -H, --human           Human sizes (default true)',
    '      --no-trunc        Do not truncate the output',
    '  -q, --quiet           Only display IDs', '',
  ].join('\n'));
});

test('wrap: pflag keeps a short last word on the line (slop) and honours newlines', () => {
  assert.equal(wrap(24, 79, 'short'), 'short');
  assert.equal(wrap(24, 79, 'a\nb'), 'a\n' + ' '.repeat(24) + 'b');
  // 50 columns, plus up to 5 when that finishes the text.
  assert.equal(wrap(24, 79, 'x'.repeat(48) + ' yyyy'), 'x'.repeat(48) + ' yyyy');
  assert.equal(wrap(24, 79, 'x'.repeat(48) + ' yyyyyyy'), 'x'.repeat(48) + '\n' + ' '.repeat(24) + 'yyyyyyy');
});
