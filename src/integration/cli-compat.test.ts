/**
 * What a new user trying docker commands on berth hit (issue 2's "tried as a new user
 * would"): each case is checked with berth's CLI and, where the daemon is involved, with
 * the real docker CLI against the same daemon.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { REPO, TestDaemon, run } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const b = (...args: string[]) => d.berth(args);

test('bin/berth: `run --env-file <missing>` is berth\'s error (125), not Node 20 taking the flag', { timeout: 20_000 }, async () => {
  const r = await run(join(REPO, 'bin/berth'), ['run', '--rm', '--env-file', '/nonexistent/env', 'busybox', 'true'], { BERTH_HOST: d.host });
  assert.deepEqual([r.code, r.stderr], [125, "berth: open /nonexistent/env: no such file or directory\n\nRun 'berth run --help' for more information\n"]);
});

test('a malformed image reference fails before create or pull, in docker\'s words', { timeout: 20_000 }, async () => {
  const before = (await b('ps', '-aq')).stdout;
  const r = await b('run', '--rm', 'Bad:Name', 'true');
  assert.deepEqual([r.code, r.stderr], [125, "berth: invalid reference format: repository name (library/Bad) must be lowercase\n\nRun 'berth run --help' for more information\n"]);
  assert.equal((await b('ps', '-aq')).stdout, before, 'nothing created');
  const t = await b('tag', 'busybox', 'a:b:c');
  assert.deepEqual([t.code, t.stderr], [1, 'Error parsing reference: "a:b:c" is not a valid repository/tag: invalid reference format\n']);
});

test('rm -f / rmi -f of something missing report it and still succeed; rename failures say which', { timeout: 20_000 }, async () => {
  for (const args of [['rm', '-f', 'nosuch'], ['rmi', '-f', 'nosuch']]) {
    const [br, dr] = [await b(...args), await d.docker(args)];
    assert.deepEqual([br.code, br.stderr], [dr.code, dr.stderr], args.join(' '));
    assert.equal(br.code, 0);
  }
  assert.equal((await b('rm', 'nosuch')).code, 1);
  const rn = await b('rename', 'nosuch', 'x');
  assert.deepEqual([rn.code, rn.stderr], [1, 'Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n']);
});

test('ps --filter volume / expose / publish select (they were accepted and ignored)', { timeout: 20_000 }, async () => {
  const id = (await b('create', '--name', 'cc-vol', '-v', 'ccvol:/data', '--expose', '80', 'busybox', 'true')).stdout.trim();
  await b('create', '--name', 'cc-plain', 'busybox', 'true');
  const names = async (...f: string[]) => (await b('ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x]))).stdout.trim();
  assert.equal(await names('volume=ccvol'), 'cc-vol');
  assert.equal(await names('volume=/data'), 'cc-vol');
  assert.equal(await names('volume=/nowhere'), '');
  assert.equal(await names('expose=80/tcp'), 'cc-vol');
  assert.equal(await names('expose=79-81'), 'cc-vol');
  assert.equal(await names('publish=80'), '', 'exposed is not published');
  assert.equal((await d.docker(['ps', '-aq', '--no-trunc', '--filter', 'volume=ccvol'])).stdout.trim(), id);
  const bad = await b('ps', '--filter', 'publish=x');
  assert.deepEqual([bad.code, bad.stderr], [1, "Error response from daemon: invalid filter 'publish=x'\n"]);
  await b('rm', '-v', 'cc-vol', 'cc-plain');
});

test('--format: a field that does not exist is an error as in Go; inspect parse errors exit 64', { timeout: 20_000 }, async () => {
  await b('create', '--name', 'cc-fmt', 'busybox', 'true');
  const ps = await b('ps', '-a', '--format', '{{.Bogus}}');
  assert.deepEqual([ps.code, ps.stdout, ps.stderr], [1, '', 'failed to execute template: template: :1:2: executing "" at <.Bogus>: can\'t evaluate field Bogus in type *formatter.ContainerContext\n']);
  const ins = await b('inspect', '-f', '{{.State.Status', 'cc-fmt');
  assert.deepEqual([ins.code, ins.stderr], [64, 'template parsing error: template: :1: unclosed action\n']);
  const miss = await b('inspect', '-f', '{{.Nope}}', 'cc-fmt');
  assert.deepEqual([miss.code, miss.stderr], [1, 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"\n']);
  // What exists still renders, including Go's field names for version.
  assert.equal((await b('inspect', '-f', '{{.State.Status}} {{index .Config.Labels "x"}}', 'cc-fmt')).stdout, 'created <no value>\n');
  assert.equal((await b('version', '-f', '{{.Server.APIVersion}}')).stdout, (await d.docker(['version', '-f', '{{.Server.APIVersion}}'])).stdout);
  const img = await b('images', '--format', '{{json .}}');
  assert.match(img.stdout, /"Digest":"\\u003cnone\\u003e"/, 'rows marshal like Go (HTML-escaped)');
  assert.match(img.stdout, /"VirtualSize":"1\.\d{3}MB"/);
  await b('rm', 'cc-fmt');
});

test('piped stdin is data: ctrl-p ctrl-q bytes reach a non-TTY container (docker and berth)', { timeout: 30_000 }, async () => {
  const input = 'a\u0010\u0011b\n';
  for (const cli of [(a: string[]) => d.berth(a, { input, timeout: 15_000 }), (a: string[]) => d.docker(a, { input, timeout: 15_000 })]) {
    const r = await cli(['run', '-i', '--rm', 'busybox', 'od', '-An', '-tx1']);
    assert.deepEqual([r.code, r.stdout.trim()], [0, '61 10 11 62 0a'], r.stderr);
  }
});

test('a large piped stdin arrives whole in run -i and exec -i (docker and berth)', { timeout: 60_000 }, async () => {
  // conmon reads one stdin packet into 32 KiB: longer packets lost their tail (5 MB in, ~3 MB out).
  let input = '';
  for (let i = 0; input.length < 3_000_000; i++) input += `line ${i} ${'x'.repeat(i % 97)}\n`;
  const sum = createHash('md5').update(input).digest('hex');
  for (const cli of [(a: string[]) => d.berth(a, { input, timeout: 25_000 }), (a: string[]) => d.docker(a, { input, timeout: 25_000 })]) {
    const r = await cli(['run', '-i', '--rm', 'busybox', 'md5sum']);
    assert.deepEqual([r.code, r.stdout.trim().split(/\s+/)[0]], [0, sum], r.stderr);
  }
  await b('run', '-d', '--name', 'cc-bigin', 'busybox', 'sleep', '60');
  try {
    const r = await d.docker(['exec', '-i', 'cc-bigin', 'md5sum'], { input, timeout: 25_000 });
    assert.deepEqual([r.code, r.stdout.trim().split(/\s+/)[0]], [0, sum], r.stderr);
  } finally {
    await b('rm', '-f', 'cc-bigin');
  }
});
