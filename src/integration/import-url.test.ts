/**
 * `docker import <URL>`: berthd downloads the rootfs tarball itself (served here by a
 * local HTTP server on 127.0.0.1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { TestDaemon, REPO } from '../testing/daemon.js';

const execFileP = promisify(execFile);
let d: TestDaemon;
let server: Server;
let base: string;

before(async () => {
  d = await TestDaemon.start({ busybox: false });
  const { stdout: tar } = await execFileP(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { encoding: 'buffer', maxBuffer: 64 << 20 });
  server = createServer((req, res) => {
    if (req.url === '/rootfs.tar') {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      res.end(tar);
    } else {
      res.writeHead(404).end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await d?.stop();
  server?.close();
});

test('docker import <URL> downloads the tarball and the image runs', async () => {
  const r = await d.docker(['import', '--change', 'CMD ["echo","from-url"]', `${base}/rootfs.tar`, 'fromurl:1']);
  assert.equal(r.code, 0, r.stderr);
  const run = await d.docker(['run', '--rm', 'fromurl:1']);
  assert.equal(run.stdout, 'from-url\n', run.stderr);
});

test('a URL that answers 404, or a scheme that is not http(s), is a clear error and stores nothing', async () => {
  const missing = await d.docker(['import', `${base}/nothing.tar`, 'nothing:1']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /404/);
  const bad = await d.api('POST', `/images/create?fromSrc=${encodeURIComponent('file:///etc/shadow')}&repo=x`);
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /only http and https/);
  const list = await d.api('GET', '/images/json');
  assert.deepEqual(list.json().map((i: { RepoTags: string[] }) => i.RepoTags).flat(), ['fromurl:1']);
});
