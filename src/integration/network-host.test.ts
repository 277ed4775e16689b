/**
 * What containers and published ports may do to the host they run on: reach services
 * the host binds to loopback only (they may not), and what the host's own sockets see.
 * Everything stays on loopback and on this suite's berthd's bridges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';
import { httpGet } from '../testing/http-get.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const NET = `hn-${tag}`;

before(async () => {
  d = await TestDaemon.start();
});

after(async () => {
  const ids = (await d?.docker(['ps', '-aq']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => {});
  await d?.docker(['network', 'rm', NET]).catch(() => {});
  await d?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

test('a container cannot reach host services bound to 127.0.0.1 through its gateway (CVE-2020-8558); ports published on 127.0.0.1 still work', async () => {
  const server = createServer((_q, s) => s.end('host-only'));
  const port = await listen(server, '127.0.0.1');
  try {
    await ok(['network', 'create', NET]);
    const gw = (await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', NET])).trim();
    // The container gives up its own loopback and routes 127.0.0.1 to the gateway: only the
    // host's netfilter stands between it and the host's loopback services.
    const script = [
      'ip route del local 127.0.0.0/8 dev lo table local', 'ip route del local 127.0.0.1 dev lo table local',
      'ip addr del 127.0.0.1/8 dev lo', `ip route add 127.0.0.1/32 via ${gw} dev eth0`,
      `timeout 3 wget -qO- http://127.0.0.1:${port}/; echo rc=$?`,
    ].join('; ');
    const r = await d.docker(['run', '--rm', '--network', NET, '--cap-add', 'NET_ADMIN', 'busybox', 'sh', '-c', script], { timeout: 30000 });
    assert.match(r.stdout, /rc=\d+/, r.stderr);
    assert.doesNotMatch(r.stdout, /host-only/, 'the host-only server answered a container');
    assert.doesNotMatch(r.stdout, /rc=0\b/);
    // What route_localnet on the bridges is for: the host reaches a port published on 127.0.0.1.
    await ok(['run', '-d', '--name', 'lo-pub', '--network', NET, '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'echo pub-ok > /i; exec httpd -f -p 80 -h /']);
    const hostPort = Number((await ok(['port', 'lo-pub', '80/tcp'])).trim().split(':').pop());
    let body = '';
    for (let i = 0; i < 20 && body !== 'pub-ok\n'; i++) body = await httpGet(hostPort, '/i').catch(async () => { await new Promise((res) => setTimeout(res, 100)); return ''; });
    assert.equal(body, 'pub-ok\n');
  } finally {
    server.close();
    await d.docker(['rm', '-f', 'lo-pub']).catch(() => {});
    await d.docker(['network', 'rm', NET]).catch(() => {});
  }
});
