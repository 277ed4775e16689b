/**
 * Hostile API bodies, names and clients against a private berthd: each bad request is
 * a one-line 4xx, never a 500 or a crash, and leaves nothing behind (no container
 * record or directory, no volume); a client that stalls mid-upload cannot hold the
 * image store; a hostile --env-file or --cidfile cannot touch the CLI's host.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon, REPO, run, type ApiResponse } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  // A short body-idle timeout so the stalled-upload test runs in seconds (default 120 s).
  process.env['BERTH_BODY_IDLE_TIMEOUT_MS'] = '1500';
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/bt-hapi-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function assertClientError(r: ApiResponse, what: string, status = 400): void {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
  const m = r.json<{ message: string }>().message;
  assert.equal(m.includes('\n'), false, `${what}: one line`);
  assert.doesNotMatch(m, /\bat .*\.js:\d+/, `${what}: no stack`);
}

const img = { Image: 'busybox', Cmd: ['true'] };
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

test('create bodies of wrong types, hostile values and odd shapes: one-line 400, nothing created', { timeout: 30000 }, async () => {
  const start = await d.leftovers();
  const bodies: Array<[string, unknown]> = [
    ['Binds as a string', { ...img, HostConfig: { Binds: '/etc:/x' } }],
    ['Memory as a string', { ...img, HostConfig: { Memory: '1g' } }],
    ['Env as an object', { ...img, Env: { A: 'b' } }],
    ['Cmd as a number', { ...img, Cmd: 5 }],
    ['NUL in a bind source', { ...img, HostConfig: { Binds: [`${tmp}\0/x:/x`] } }],
    ['NUL in a tmpfs destination', { ...img, HostConfig: { Tmpfs: { '/x\0y': '' } } }],
    ['NUL in Env', { ...img, Env: ['A\0B=1'] }],
    ['NUL in Cmd', { ...img, Cmd: ['a\0b'] }],
    ['newline in Dns', { ...img, HostConfig: { Dns: ['1.1.1.1\nnameserver 6.6.6.6'] } }],
    ['newline in DnsSearch', { ...img, HostConfig: { DnsSearch: ['a\nnameserver 6.6.6.6'] } }],
    ['newline in ExtraHosts', { ...img, HostConfig: { ExtraHosts: ['a:1.2.3.4\n6.6.6.6 evil'] } }],
    ['newline in Hostname', { ...img, Hostname: 'h\n6.6.6.6 evil' }],
    ['Hostname over 64 bytes', { ...img, Hostname: 'h'.repeat(65) }],
    ['sysctl __proto__', { ...img, HostConfig: { Sysctls: { __proto__: '1' } } }],
    ['host sysctl', { ...img, HostConfig: { Sysctls: { 'kernel.panic': '1' } } }],
    ['net sysctl with host network', { ...img, HostConfig: { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } } }],
    ['tmpfs over /', { ...img, HostConfig: { Tmpfs: { '/': '' } } }],
    ['bind over /', { ...img, HostConfig: { Binds: [`${tmp}:/`] } }],
    ['relative bind source', { ...img, HostConfig: { Binds: ['../x:/x'] } }],
    ['name with a slash', { ...img, _name: 'a/b' }],
    ['name ../../x', { ...img, _name: '../../x' }],
  ];
  for (const [what, body] of bodies) {
    const { _name, ...b } = body as Record<string, unknown>;
    // JSON.stringify drops an own __proto__ key made by a literal; build that text by hand.
    const text = what === 'sysctl __proto__' ? '{"Image":"busybox","Cmd":["true"],"HostConfig":{"Sysctls":{"__proto__":"1"}}}' : JSON.stringify(b);
    const q = _name ? `?name=${encodeURIComponent(String(_name))}` : '';
    const r = await d.api('POST', `/containers/create${q}`, Buffer.from(text), { 'Content-Type': 'application/json' });
    assertClientError(r, what);
  }
  const nested = await d.api('POST', '/containers/create', Buffer.from(`{"Image":"busybox","HostConfig":{"Junk":${deep(100000)}}}`), { 'Content-Type': 'application/json' });
  assertClientError(nested, 'deeply nested JSON');
  const big = Buffer.from(JSON.stringify({ ...img, Env: Array.from({ length: 1_000_000 }, (_, i) => `A${i}=x`) }));
  assert.ok(big.length > 8 << 20);
  assertClientError(await d.api('POST', '/containers/create', big, { 'Content-Type': 'application/json' }), 'body over 8 MiB');
  assert.equal(await d.leftovers(), start, 'nothing half-created');
  assert.equal(existsSync(join(tmp, 'x')), false, 'no bind source made for a refused create');

  // Prototype keys are plain data: they neither grant privileges nor break the record.
  const proto = await d.api('POST', '/containers/create', Buffer.from('{"Image":"busybox","Cmd":["true"],"__proto__":{"Privileged":true},"HostConfig":{"__proto__":{"Privileged":true}},"Labels":{"__proto__":"x","constructor":"y"}}'), { 'Content-Type': 'application/json' });
  assert.equal(proto.status, 201, proto.body.toString());
  const id = proto.json<{ Id: string }>().Id;
  const ins = (await d.api('GET', `/containers/${id}/json`)).json<{ HostConfig: { Privileged: boolean } }>();
  assert.equal(ins.HostConfig.Privileged, false);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
});

test('volume, update and query abuse: 400s, no stray volumes', { timeout: 20000 }, async () => {
  const start = await d.leftovers();
  const vol = async (body: string) => d.api('POST', '/volumes/create', Buffer.from(body), { 'Content-Type': 'application/json' });
  assertClientError(await vol('[1,2]'), 'array body');
  assertClientError(await vol('"str"'), 'string body');
  assertClientError(await vol('{"Name":"ok1","Labels":"x"}'), 'Labels as a string');
  assertClientError(await vol('{"Name":"ok2","Labels":{"__proto__":{"a":"1"}}}'), 'nested label value');
  assertClientError(await vol(`{"Name":"${'a'.repeat(300)}"}`), 'a name over NAME_MAX');
  for (const name of ['../x', '/', 'a\\u0000b', 'ünï', '.hidden']) assertClientError(await vol(JSON.stringify({ Name: JSON.parse(`"${name}"`) })), `volume name ${name}`);
  assertClientError(await d.api('GET', '/volumes/..%2F..%2Fetc'), 'volume path', 404);
  assertClientError(await d.api('GET', '/containers/..%2F..%2Fetc/json'), 'container path', 404);
  assertClientError(await d.api('GET', '/exec/..%2F..%2Fetc/json'), 'exec path', 404);
  assertClientError(await d.api('POST', '/images/busybox/tag?repo=..%2F..%2Fx&tag=y'), 'tag repo');
  assertClientError(await d.api('GET', '/containers/json?filters=%5B1%5D'), 'filters as an array');
  assertClientError(await d.api('GET', '/containers/json?limit=abc'), 'limit');
  const c = (await d.api('POST', '/containers/create', img)).json<{ Id: string }>().Id;
  assertClientError(await d.api('POST', `/containers/${c}/update`, { RestartPolicy: 'always' }), 'RestartPolicy as a string');
  assertClientError(await d.api('POST', `/containers/${c}/update`, { Memory: 'x' }), 'Memory as a string');
  assertClientError(await d.api('POST', `/containers/${c}/exec`, { Cmd: 5 }), 'exec Cmd as a number');
  await d.api('DELETE', `/containers/${c}`);
  assert.equal(await d.leftovers(), start);
});

test('a client stalled mid-upload neither blocks others nor holds the image store', { timeout: 20000 }, async () => {
  const layer = execFileSync(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { maxBuffer: 64 << 20 });
  const sockets: net.Socket[] = [];
  const stall = (head: string) => {
    const s = net.connect(d.socket);
    s.on('error', () => {});
    s.write(head);
    sockets.push(s);
    return new Promise<void>((r) => s.on('close', () => r()));
  };
  // An import that sent 100 bytes of a 100 kB tar, and headers never finished.
  const importClosed = stall('POST /images/create?fromSrc=-&repo=stalled HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\nContent-Length: 100000\r\n\r\n' + 'a'.repeat(100));
  stall('GET /containers/json HTTP/1.1\r\nHost: d\r\nX-Slow: ');
  for (let i = 0; i < 200; i++) stall('GET /_ping HTTP/1.1\r\nHost: d\r\n');
  try {
    const t0 = Date.now();
    assert.equal((await d.api('GET', '/_ping')).status, 200);
    assert.ok(Date.now() - t0 < 1000, 'others are served at once');
    // Another import does not wait for the stalled one: the upload is read outside the
    // image store's lock, so it finishes while the stalled client is still connected
    // (cut off after the idle timeout, 1.5 s here).
    let stalledClosed = false;
    void importClosed.then(() => { stalledClosed = true; });
    const r = await d.api('POST', '/images/create?fromSrc=-&repo=after&tag=1', layer, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(stalledClosed, false, `the import waited for the stalled one (${Date.now() - t0} ms)`);
    await importClosed;
    const names = (await d.api('GET', '/images/json')).json<Array<{ RepoTags: string[] }>>().flatMap((i) => i.RepoTags);
    assert.equal(names.some((n) => n.startsWith('stalled')), false, 'the cut-off import registered nothing');
    await d.api('DELETE', '/images/after:1');
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test('CLI: an --env-file cannot run code in berth, an existing --cidfile is refused', { timeout: 20000 }, async () => {
  const marker = join(tmp, 'pwned');
  await writeFile(join(tmp, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`);
  await writeFile(join(tmp, 'app.env'), `NODE_OPTIONS=--require ${join(tmp, 'evil.cjs')}\nFOO=bar\n`);
  const bin = join(REPO, 'bin/berth');
  const r = await run(bin, ['run', '--rm', '--env-file', join(tmp, 'app.env'), 'busybox', 'sh', '-c', 'echo $FOO'], { BERTH_HOST: d.host });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'bar', 'the file still feeds the container');
  assert.equal(existsSync(marker), false, 'NODE_OPTIONS from the env file did not reach the CLI');

  const cid = join(tmp, 'cid');
  await writeFile(cid, 'keep');
  const before = await d.leftovers();
  const c = await d.berth(['run', '-d', '--cidfile', cid, 'busybox', 'true']);
  assert.equal(c.code, 125);
  assert.match(c.stderr, /container ID file found/);
  assert.equal(await readFile(cid, 'utf8'), 'keep');
  assert.equal(await d.leftovers(), before, 'no container created');
});
