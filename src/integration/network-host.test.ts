/**
 * What containers and published ports may do to the host they run on: reach services
 * the host binds to loopback only (they may not), and what the host's own sockets see.
 * Everything stays on loopback and on this suite's berthd's bridges.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';
import { httpGet } from '../testing/http-get.js';
import { freeOctet } from '../testing/netns.js';

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

/** Can a host process bind this port (on host, default any) right now? */
function bindable(port: number, proto: 'tcp' | 'udp', host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const s = createTcpServer();
      s.once('error', () => resolve(false));
      s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
    } else {
      const s = createSocket('udp4');
      s.once('error', () => { s.close(); resolve(false); });
      s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(true)));
    }
  });
}

/** A base port with n free ones (TCP and UDP) from it. */
async function freePorts(n: number): Promise<number> {
  for (;;) {
    const base = 40000 + Math.floor(Math.random() * 5000);
    let all = true;
    for (let i = 0; i < n && all; i++) all = (await bindable(base + i, 'tcp')) && (await bindable(base + i, 'udp'));
    if (all) return base;
  }
}

/** This suite's berthd's nft table. */
const table = () => execFileSync('nft', ['list', 'table', 'ip', `berth_${createHash('sha256').update(`${d.dir}/run`).digest('hex').slice(0, 6)}`], { encoding: 'utf8' });

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

test('published host ports are held while published (also after a berthd restart), not in the way of their traffic, and free after rm', async () => {
  const port = await freePorts(1);
  try {
    await ok(['run', '-d', '--name', 'held', '-p', `${port}:80`, '-p', `${port}:53/udp`, 'busybox', 'sh', '-c', 'echo held-ok > /i; exec httpd -f -p 80 -h /']);
    const held = async () => {
      assert.equal(await bindable(port, 'tcp'), false, 'a host process bound the published TCP port');
      assert.equal(await bindable(port, 'tcp', '127.0.0.1'), false, 'a host process bound the published TCP port on 127.0.0.1');
      assert.equal(await bindable(port, 'udp'), false, 'a host process bound the published UDP port');
      // The held socket never takes the port's traffic: DNAT comes first.
      let body = '';
      for (let i = 0; i < 20 && body !== 'held-ok\n'; i++) body = await httpGet(port, '/i').catch(async () => { await new Promise((res) => setTimeout(res, 100)); return ''; });
      assert.equal(body, 'held-ok\n');
    };
    await held();
    await d.kill('SIGKILL');
    await d.launch();
    await held();
    await ok(['rm', '-f', 'held']);
    assert.ok(await bindable(port, 'tcp') && await bindable(port, 'udp'), 'released at rm');
  } finally {
    await d.docker(['rm', '-f', 'held']).catch(() => {});
  }
});

test("publish errors are docker's, and leave nothing held or mapped", async () => {
  const port = await freePorts(1);
  const lacking = '198.51.100.77'; // TEST-NET-2: no host has it
  assert.doesNotMatch(execFileSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }), new RegExp(` inet ${lacking.replace(/\./g, '\\.')}/`));
  const cases: Array<[string[], RegExp]> = [
    [['-p', `${lacking}:${port}:80`], new RegExp(`failed to bind host port ${lacking.replace(/\./g, '\\.')}:${port}/tcp: cannot assign requested address`)],
    [['-p', `${port}:80`, '-p', `${port}:81`], new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated$`, 'm')],
  ];
  for (const [flags, want] of cases) {
    const r = await d.docker(['run', '-d', '--name', 'bad-pub', ...flags, 'busybox', 'sleep', '30']);
    try {
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, want);
      assert.doesNotMatch(r.stderr, /another container/);
      assert.ok(await bindable(port, 'tcp'), 'nothing held');
      assert.doesNotMatch(table(), new RegExp(`\\b${port} :`), 'nothing mapped');
    } finally {
      await d.docker(['rm', '-f', 'bad-pub']).catch(() => {});
    }
  }
});

test('a UDP flow to a published port follows its mapping: not the container that had it once unmapped, nor the host before it is mapped (conntrack entries go)', async () => {
  const port = await freePorts(1);
  // busybox has no UDP server: the host's socat runs inside through the host's loader.
  const socat = (p: number, reply: string) => `exec /h/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path /h/lib/x86_64-linux-gnu:/h/usr/lib/x86_64-linux-gnu /h/usr/bin/socat UDP-RECVFROM:${p},fork SYSTEM:"echo ${reply}"`;
  const run = (name: string, flags: string[], p: number, reply: string) => ok(['run', '-d', '--name', name, '--network', NET, '-v', '/:/h:ro', ...flags, 'busybox', 'sh', '-c', socat(p, reply)]);
  // One flow the whole time: one source port, a datagram every 50 ms; it starts before
  // anything is published, so its first packets meet no mapping.
  const client = createSocket('udp4');
  const replies: string[] = [];
  client.on('message', (m) => replies.push(m.toString().trim()));
  await new Promise<void>((res) => client.bind(0, '127.0.0.1', () => res()));
  const timer = setInterval(() => client.send('x', port, '127.0.0.1', () => {}), 50);
  const heard = async (reply: string, ms = 10000) => {
    for (let t = 0; t < ms && !replies.includes(reply); t += 100) await new Promise((res) => setTimeout(res, 100));
    return replies.includes(reply);
  };
  try {
    const net = `10.${freeOctet(251, 100, 200)}.251`;
    await ok(['network', 'create', '--subnet', `${net}.0/24`, NET]);
    await run('udp-one', ['--ip', `${net}.10`, '-p', `${port}:53/udp`], 53, 'one');
    assert.ok(await heard('one'), 'the flow that began before the mapping reaches the container');
    await ok(['rm', '-f', 'udp-one']);
    // A container that takes the address and serves the port, but publishes nothing.
    await run('udp-other', ['--ip', `${net}.10`], 53, 'other');
    assert.ok(!(await heard('other', 2000)), 'the unmapped flow reached the container that took the address');
    await ok(['rm', '-f', 'udp-other']);
    await run('udp-two', ['-p', `${port}:54/udp`], 54, 'two');
    assert.ok(await heard('two'), `the flow follows the new mapping: heard ${[...new Set(replies)].join(', ')}`);
  } finally {
    clearInterval(timer);
    client.close();
    await d.docker(['rm', '-f', 'udp-one', 'udp-other', 'udp-two']).catch(() => {});
    await d.docker(['network', 'rm', NET]).catch(() => {});
  }
});
