/**
 * Mount destinations must be absolute, wherever they come from (Config.Volumes, an image's
 * VOLUMEs, Binds, Mounts, Tmpfs): runc only warns about a relative one and mounts it
 * somewhere under the root. Each is a one-line 400 (dockerd's words) before anything
 * exists: no container, no directory, no volume.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { TestDaemon } from '../testing/daemon.js';
import { busyboxLayer, imageArchive } from '../testing/image-archive.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-mnt-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const must = (type: string, p: string) => `invalid mount config for type "${type}": invalid mount path: '${p}' mount path must be absolute`;

test('relative mount destinations in a create request are a one-line 400; nothing is made', { timeout: 60_000 }, async () => {
  const clean = await d.leftovers();
  const img = { Image: 'busybox', Cmd: ['true'] };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['Volumes ../../rel/x', { ...img, Volumes: { '../../rel/x': {} } }, must('volume', '../../rel/x')],
    ['Volumes rel', { ...img, Volumes: { rel: {} } }, must('volume', 'rel')],
    ['Volumes empty', { ...img, Volumes: { '': {} } }, must('volume', '')],
    ['Volumes /', { ...img, Volumes: { '/': {} } }, `invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    // A named volume first: it must not outlive the refusal.
    ['Volumes after a named volume', { ...img, Volumes: { 'a/b': {} }, HostConfig: { Binds: ['mp-named:/ok'] } }, must('volume', 'a/b')],
    ['bind target', { ...img, HostConfig: { Binds: [`${tmp}:rel/x`] } }, `invalid volume specification: '${tmp}:rel/x': ${must('bind', 'rel/x')}`],
    ['volume bind target', { ...img, HostConfig: { Binds: ['mp-named:../x:ro'] } }, `invalid volume specification: 'mp-named:../x:ro': ${must('volume', '../x')}`],
    ['Mounts bind', { ...img, HostConfig: { Mounts: [{ Type: 'bind', Source: tmp, Target: 'rel' }] } }, must('bind', 'rel')],
    ['Mounts volume', { ...img, HostConfig: { Mounts: [{ Type: 'volume', Source: 'mp-named', Target: './x' }] } }, must('volume', './x')],
    ['Mounts tmpfs', { ...img, HostConfig: { Mounts: [{ Type: 'tmpfs', Target: 'x' }] } }, must('tmpfs', 'x')],
    ['Mounts no target', { ...img, HostConfig: { Mounts: [{ Type: 'volume', Source: 'mp-named' }] } }, 'invalid mount config for type "volume": field Target must not be empty'],
    ['Tmpfs key', { ...img, HostConfig: { Tmpfs: { 'run/x': 'size=1m' } } }, must('tmpfs', 'run/x')],
  ];
  for (const [what, body, message] of cases) {
    const r = await d.api('POST', '/containers/create?name=mp', body);
    assert.equal(r.status, 400, `${what}: ${r.body}`);
    assert.equal(r.json<{ message: string }>().message, message, what);
    assert.equal(await d.leftovers(), clean, what);
  }
  // Absolute ones still work.
  const ok = await d.api('POST', '/containers/create?name=mp', { ...img, Volumes: { '/data': {} }, HostConfig: { Tmpfs: { '/run/x': '' } } });
  assert.equal(ok.status, 201, ok.body.toString());
  assert.equal((await d.api('DELETE', '/containers/mp?v=1')).status, 204);
  assert.equal(await d.leftovers(), clean);
});

test("an image's relative VOLUME is refused at create (docker run exits 125); nothing is made", { timeout: 60_000 }, async () => {
  const tar = await imageArchive({ tag: 'relvol:1', layers: [busyboxLayer()], config: { Cmd: ['true'], Volumes: { '/ok': {}, '../../rel/x': {} } } });
  const load = await d.api('POST', '/images/load?quiet=1', tar, { 'Content-Type': 'application/x-tar' });
  assert.equal(load.status, 200, load.body.toString());
  const clean = await d.leftovers();
  const r = await d.docker(['run', '--rm', 'relvol:1']);
  assert.equal(r.code, 125, r.stdout);
  const message = `${must('volume', '../../rel/x')} (a VOLUME of the image; rebuild it with an absolute path)`;
  assert.ok(r.stderr.includes(`Error response from daemon: ${message}\n`), r.stderr);
  const api = await d.api('POST', '/containers/create', { Image: 'relvol:1' });
  assert.equal(api.status, 400, api.body.toString());
  assert.equal(api.json<{ message: string }>().message, message);
  assert.equal(await d.leftovers(), clean);
  await d.api('DELETE', '/images/relvol:1');
});
