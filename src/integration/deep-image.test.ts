/**
 * Images deeper than overlay can mount (the kernel takes mount options in one page): a
 * create, a run, a commit on top of the deepest mountable image and a build step on it
 * all fail at once with one line, leaving no name, container dir or snapshot behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, type ApiResponse } from '../testing/daemon.js';
import { busyboxLayer, fileLayer, imageArchive } from '../testing/image-archive.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start({ busybox: false }); });
after(async () => { await d?.stop(); });

const DEPTH = 151;
const busybox = busyboxLayer();

/** Before the fix a create on a too-deep image never answered: give up after a while, loudly. */
function prompt(p: Promise<ApiResponse>, what: string): Promise<ApiResponse> {
  let t!: NodeJS.Timeout;
  const late = new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer in 15 s`)), 15000); });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

async function load(tag: string, depth: number): Promise<void> {
  // busybox at the bottom, so the deepest mountable image can run; layers shared between tags.
  const layers = [busybox, ...await Promise.all(Array.from({ length: depth - 1 }, (_, i) => fileLayer(`f${i + 1}`)))];
  const r = await d.api('POST', '/images/load?quiet=1', await imageArchive({ tag, layers, config: { Cmd: ['true'] } }), { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200, r.body.toString());
}

/** What a failed create could leave: records, container dirs, active snapshots, snapshot dirs. */
async function leftovers(): Promise<string> {
  const cs = (await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length;
  const dirs = (await readdir(join(d.dir, 'data', 'containers')).catch(() => [] as string[])).filter((n) => !n.startsWith('.trash-'));
  const overlay = join(d.dir, 'data', 'overlay');
  const meta = JSON.parse(await readFile(join(overlay, 'metadata.json'), 'utf8')) as { snapshots: Record<string, { kind: string }> };
  const active = Object.values(meta.snapshots).filter((s) => s.kind === 'active').length;
  const snapDirs = (await readdir(overlay)).filter((n) => /^\d+$/.test(n)).length;
  return `containers=${cs} dirs=${dirs.length} active=${active} snapshot-dirs=${snapDirs}`;
}

function assertTooDeep(r: ApiResponse, layers: number): number {
  assert.equal(r.status, 400, r.body.toString());
  const m = r.json<{ message: string }>().message;
  assert.doesNotMatch(m, /\n/);
  const hit = new RegExp(`^max depth exceeded: the image has ${layers} layers and overlay can mount at most (\\d+) here .*flatten the image`).exec(m);
  assert.ok(hit, m);
  return Number(hit[1]);
}

test('a too-deep image: create, run, commit on the deepest mountable one and a build step fail at once, nothing left', { timeout: 120_000 }, async () => {
  await load('deep:1', DEPTH);
  const clean = await leftovers();
  const create = (image: string, name = 'deep') =>
    prompt(d.api('POST', `/containers/create?name=${name}`, { Image: image }), `create on ${image}`);

  const max = assertTooDeep(await create('deep:1'), DEPTH);
  assert.ok(max > 50 && max < DEPTH, String(max));
  assert.equal(await leftovers(), clean);
  // The name was released: the same create fails the same way, not with a name conflict.
  assertTooDeep(await create('deep:1'), DEPTH);

  const run = await d.docker(['run', '--rm', '--name', 'deep', 'deep:1'], { timeout: 20000 });
  assert.equal(run.code, 125, run.stderr);
  assert.match(run.stderr, /max depth exceeded/);
  assert.equal(await leftovers(), clean);

  // The deepest image that mounts shares its layers with the deep one; a commit on it is one too many.
  await load('deep:max', max);
  const top = await d.docker(['run', '--name', 'top', 'deep:max', 'cat', `/f${max - 1}`], { timeout: 20000 });
  assert.equal(top.code, 0, top.stderr);
  assert.equal(top.stdout, `f${max - 1}`, 'the topmost layer is mounted');
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'top'])).stdout.trim();
  const commit = await d.api('POST', `/commit?container=${id}&repo=deeper&tag=1`, {});
  assert.equal(commit.status, 201, commit.body.toString());
  const del = await d.api('DELETE', `/containers/${id}`);
  assert.equal(del.status, 204, del.body.toString());
  const committed = await leftovers();
  assertTooDeep(await create('deeper:1'), max + 1);
  assert.equal(await leftovers(), committed);

  // A build step on it (the classic builder's work container) fails the same way.
  const b = await d.docker(['build', '-t', 'deeper:2', '-'], { input: 'FROM deeper:1\nRUN true\n', timeout: 30000 });
  assert.notEqual(b.code, 0, b.stdout);
  assert.match(b.stderr + b.stdout, /max depth exceeded: the image has \d+ layers/);
  assert.equal(await leftovers(), committed);

  for (const img of ['deeper:1', 'deep:max', 'deep:1']) await d.api('DELETE', `/images/${img}`);
});
