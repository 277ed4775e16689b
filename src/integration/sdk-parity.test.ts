/**
 * Differences from Docker that SDK users met (found driving berthd with docker-py,
 * dockerode and docker-compose): dockerd's default network sysctls, an exec resize sent
 * right after a hijacked start, the ps publish filter, and the network list's containers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const b = (...args: string[]) => d.berth(args);
async function ok(...args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('a container with its own network namespace gets dockerd\'s network sysctls: any user binds port 80; --sysctl and host networking keep theirs', { timeout: 30_000 }, async () => {
  const read = 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range';
  assert.equal(await ok('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', read), '0\n0\t2147483647\n');
  // busybox httpd binds, then goes to the background: exit 0 means port 80 was bound by uid 1000.
  assert.equal(await ok('run', '--rm', '--network', 'none', '-u', '1000:1000', 'busybox', 'sh', '-c', 'httpd -p 80 -h / && echo bound'), 'bound\n');
  assert.equal(await ok('run', '--rm', '--network', 'none', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=500', 'busybox', 'sh', '-c', read), '500\n0\t2147483647\n');
  const host = (await ok('run', '--rm', '--network', 'host', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start')).trim();
  assert.equal(host, (await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim(), 'host networking: the host\'s own value');
  // The defaults are the engine's, not the container's configuration: inspect shows only what was asked.
  await ok('create', '--name', 'sp-sysctl', '--network', 'none', 'busybox', 'true');
  assert.equal((await ok('inspect', '-f', '{{json .HostConfig.Sysctls}}', 'sp-sysctl')).trim(), 'null');
  await ok('rm', 'sp-sysctl');
});

/** POST /exec/{id}/start hijacked (as dockerode's exec.start({hijack: true})): resolves with the raw socket. */
function hijackStart(execId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ Detach: false, Tty: true });
    const req = request({
      socketPath: d.socket, method: 'POST', path: `/v1.47/exec/${execId}/start`,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.on('upgrade', (_res, socket, head) => { if (head.length) socket.unshift(head); resolve(socket); });
    req.on('response', (res) => reject(new Error(`exec start answered ${res.statusCode}, not 101`)));
    req.on('error', reject);
    req.end(body);
  });
}

test('exec resize right after a hijacked start waits for the process (dockerd waits up to 10 s) and reaches its tty', { timeout: 30_000 }, async () => {
  await ok('run', '-d', '--name', 'sp-exec', 'busybox', 'sleep', '60');
  try {
    for (let i = 0; i < 5; i++) {
      const ex = await d.api('POST', '/containers/sp-exec/exec', { Cmd: ['sh', '-c', 'sleep 0.3; stty size'], AttachStdout: true, Tty: true });
      assert.equal(ex.status, 201, ex.body.toString());
      const id = ex.json().Id as string;
      const sock = await hijackStart(id);
      let out = '';
      sock.on('data', (c: Buffer) => { out += c.toString('utf8'); });
      const ended = new Promise<void>((r) => sock.on('close', () => r()));
      // At once: before this fix berthd answered 409 "is not running" until the process was up.
      const rs = await d.api('POST', `/exec/${id}/resize?h=33&w=101`);
      assert.equal(rs.status, 200, `round ${i}: ${rs.body.toString()}`);
      await ended;
      assert.equal(out.trim(), '33 101', `round ${i}`);
    }
    // An exec whose process could not start: the resize says so (400), it does not wait.
    const bad = await d.api('POST', '/containers/sp-exec/exec', { Cmd: ['/no/such/binary'], Tty: true, AttachStdout: true });
    const badId = bad.json().Id as string;
    const sock = await hijackStart(badId);
    await new Promise<void>((r) => { sock.on('close', () => r()); sock.resume(); });
    const rs = await d.api('POST', `/exec/${badId}/resize?h=10&w=10`);
    assert.ok([400, 409].includes(rs.status), `${rs.status} ${rs.body.toString()}`);
  } finally {
    await ok('rm', '-f', 'sp-exec');
  }
});

test('ps --filter publish names a container port of -p, running or not; expose one it exposes (dockerd\'s list.go)', { timeout: 30_000 }, async () => {
  await ok('create', '--name', 'sp-pub', '-p', '80', '-p', '18099:81', '--expose', '90', 'busybox', 'true');
  await ok('create', '--name', 'sp-plain', 'busybox', 'true');
  try {
    for (const cli of [(...a: string[]) => d.docker(a), b]) {
      const names = async (...f: string[]) => (await cli('ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x]))).stdout.trim();
      assert.equal(await names('publish=80'), 'sp-pub');
      assert.equal(await names('publish=81/tcp'), 'sp-pub');
      assert.equal(await names('publish=80-81'), 'sp-pub');
      assert.equal(await names('publish=18099'), '', 'a host port is not a published container port');
      assert.equal(await names('publish=90'), '', 'exposed only');
      assert.equal(await names('publish=80/udp'), '');
      assert.equal(await names('expose=90'), 'sp-pub');
      assert.equal(await names('expose=81'), 'sp-pub', 'the CLI exposes every -p port');
      assert.equal(await names('publish=80', 'expose=7'), '', 'both filters must hold');
    }
  } finally {
    await ok('rm', 'sp-pub', 'sp-plain');
  }
});

test('GET /networks leaves Containers empty from API 1.28 on, as dockerd; inspect and older clients get them', { timeout: 30_000 }, async () => {
  await ok('network', 'create', 'sp-net');
  await ok('run', '-d', '--name', 'sp-netc', '--network', 'sp-net', 'busybox', 'sleep', '60');
  try {
    const filters = encodeURIComponent(JSON.stringify({ name: ['sp-net'] }));
    const list = async (v: string) => (await d.api('GET', `/${v}/networks?filters=${filters}`)).json<Array<{ Name: string; Containers: Record<string, unknown> }>>().find((n) => n.Name === 'sp-net')!;
    assert.deepEqual((await list('v1.47')).Containers, {});
    assert.equal(Object.keys((await list('v1.27')).Containers).length, 1);
    const insp = (await d.api('GET', '/networks/sp-net')).json<{ Containers: Record<string, { Name: string }> }>();
    assert.deepEqual(Object.values(insp.Containers).map((c) => c.Name), ['sp-netc']);
  } finally {
    await ok('rm', '-f', 'sp-netc');
    await ok('network', 'rm', 'sp-net');
  }
});
