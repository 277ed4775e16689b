import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './dockerfile-parse.js';
import { planStages } from './stages.js';

test('continuations, comments inside them, JSON and shell forms, flags', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    'FROM busybox AS base',
    '# a comment',
    'RUN echo a \\',
    '  # dropped comment',
    '',
    '    && echo b',
    'COPY --chown=1:2 --from=base ["a b", "/c/"]',
    'CMD ["sh", "-c", "x"]',
    'ENTRYPOINT [not json',
    'run echo \\\\',
    'EXPOSE 80',
  ].join('\n'));
  assert.equal(df.escape, '\\');
  const [from, run, copy, cmd, ep, run2, expose] = df.instructions;
  assert.equal(from!.cmd, 'FROM');
  assert.equal(run!.args, 'echo a     && echo b');
  assert.equal(run!.line, 4);
  assert.deepEqual(copy!.flags, { chown: '1:2', from: 'base' });
  assert.deepEqual(copy!.json, ['a b', '/c/']);
  assert.deepEqual(cmd!.json, ['sh', '-c', 'x']);
  assert.equal(ep!.json, undefined);
  assert.equal(run2!.cmd, 'RUN');
  assert.equal(run2!.args, 'echo \\\\');
  assert.equal(expose!.args, '80');
});

test('the escape directive switches to backtick; unknown instructions are errors with the line', () => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\n');
  assert.equal(df.escape, '`');
  assert.equal(df.instructions[1]!.args, 'dir c:\\   && echo');
  assert.throws(() => parseDockerfile('FROM x\nFOO bar\n'), /line 2: unknown instruction: FOO/);
});

test('stages: meta ARGs, names, --target, step totals', () => {
  const df = parseDockerfile('ARG V=1\nFROM a AS one\nRUN x\nFROM one AS two\nRUN y\nFROM b\n');
  const p = planStages(df, 'two');
  assert.equal(p.metaArgs.length, 1);
  assert.deepEqual(p.stages.map((s) => s.name), ['one', 'two']);
  assert.equal(p.total, 4);
  assert.throws(() => planStages(df, 'three'), /failed to reach build target three/);
  assert.throws(() => planStages(parseDockerfile('RUN x\n'), undefined), /no build stage/);
  assert.throws(() => planStages(parseDockerfile('FROM a AS x\nFROM b AS x\n'), undefined), /duplicate name x/);
});
