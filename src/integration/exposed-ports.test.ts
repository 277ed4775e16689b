/**
 * ExposedPorts against a private berthd: a key that is no port (from the request or
 * the image's config) is refused at create with a one-line 400, ranges become one key
 * per port, and the container list never shows a port outside 1-65535 (every client
 * decodes it as a uint16: one bad record made `docker ps` fail for everyone).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../testing/daemon.js';
import { busyboxLayer, imageArchive } from '../testing/image-archive.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

async function leftovers(): Promise<string> {
  const cs = (await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length;
  const dirs = (await readdir(join(d.dir, 'data', 'containers')).catch(() => [] as string[])).filter((n) => !n.startsWith('.trash-'));
  return `containers=${cs} dirs=${dirs.length}`;
}

async function ps(): Promise<string> {
  const r = await d.docker(['ps', '-a', '--format', '{{.Names}} {{.Ports}}']);
  assert.equal(r.code, 0, r.stderr);
  // The CLI's own order of ports is not the point: sorted.
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => { const [name, ...ports] = l.split(' '); return [name, ...ports.join(' ').split(', ').sort()].join(' '); }).join('\n');
}

test('create refuses ExposedPorts that are no port, from the request or the image; ranges expand', { timeout: 60_000 }, async () => {
  const clean = await leftovers();
  for (const spec of ['-1/tcp', '99999/tcp', '70000/tcp', '0/tcp', 'abc/tcp', '80/bogus', '1-70000/tcp', '90-80/tcp', '']) {
    const r = await d.api('POST', '/containers/create', { Image: 'busybox', ExposedPorts: { [spec]: {} } });
    assert.equal(r.status, 400, `${spec}: ${r.body}`);
    const m = r.json<{ message: string }>().message;
    assert.equal(m, `invalid port specification: ${JSON.stringify(spec)} in ExposedPorts: want PORT[-PORT][/tcp|udp|sctp] with ports 1-65535`);
  }
  assert.equal(await leftovers(), clean);

  const ok = await d.api('POST', '/containers/create?name=ranges', { Image: 'busybox', ExposedPorts: { '8000-8002/tcp': {}, '53/UDP': {}, '80': {}, '9/sctp': {} } });
  assert.equal(ok.status, 201, ok.body.toString());
  const cfg = (await d.api('GET', '/containers/ranges/json')).json<{ Config: { ExposedPorts: Record<string, object> } }>().Config;
  assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp', '8002/tcp', '9/sctp']);
  assert.equal(await ps(), 'ranges 53/udp 80/tcp 8000-8002/tcp 9/sctp');
  await d.api('DELETE', '/containers/ranges');

  // An image whose config exposes 70000: docker load takes it, a run of it is refused.
  const tar = await imageArchive({ tag: 'badport:1', layers: [busyboxLayer()], config: { Cmd: ['sleep', '60'], ExposedPorts: { '70000/tcp': {} } } });
  const load = await d.api('POST', '/images/load?quiet=1', tar, { 'Content-Type': 'application/x-tar' });
  assert.equal(load.status, 200, load.body.toString());
  const run = await d.docker(['run', '-d', '--name', 'badport', 'badport:1']);
  assert.equal(run.code, 125, run.stdout);
  assert.match(run.stderr, /invalid port specification: "70000\/tcp" in the image's config \(rebuild the image without it\)/);
  assert.equal(await leftovers(), clean);
  assert.equal(await ps(), '');
  await d.api('DELETE', '/images/badport:1');
});

test('docker ps survives records written before the check: bad ports are left out, ranges listed', { timeout: 60_000 }, async () => {
  const r = await d.api('POST', '/containers/create?name=old', { Image: 'busybox', ExposedPorts: { '80/tcp': {} } });
  assert.equal(r.status, 201, r.body.toString());
  const id = r.json<{ Id: string }>().Id;
  // What an older berthd stored: the request's keys as they came.
  await d.kill();
  const file = join(d.dir, 'data', 'containers', id, 'container.json');
  const rec = JSON.parse(await readFile(file, 'utf8'));
  rec.Config.ExposedPorts = { '70000/tcp': {}, '-1/tcp': {}, '0/udp': {}, 'abc/tcp': {}, '80/tcp': {}, '7000-7001/udp': {} };
  await writeFile(file, JSON.stringify(rec));
  await d.launch();
  const list = (await d.api('GET', '/containers/json?all=1')).json<Array<{ Ports: Array<{ PrivatePort: number; Type: string }> }>>();
  assert.deepEqual(list[0]!.Ports.map((p) => `${p.PrivatePort}/${p.Type}`).sort(), ['7000/udp', '7001/udp', '80/tcp']);
  assert.equal(await ps(), 'old 7000-7001/udp 80/tcp');
  await d.api('DELETE', `/containers/${id}?force=1`);
});
