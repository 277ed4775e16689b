/**
 * Networking end to end with real traffic, all on loopback and in namespaces made
 * here: a netns "machine" joined to the host by a veth plays another host.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';
import { freeOctet, ownerTag, startMachine, sweepStale, type Machine } from '../testing/netns.js';

let d: TestDaemon;
const tag = ownerTag(); // the owner's pid: a suite beside this one does not sweep it
const EXT = `bt-ext-${tag}`;
const HVETH = `bx${tag}`;
sweepStale('bt-ext', 'bx');
const octet = freeOctet(77, 200, 250);
const HOST_IP = `10.${octet}.77.1`;
const EXT_IP = `10.${octet}.77.2`;
let machine: Machine | undefined;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
const inExt = (args: string[]) => machine!.exec(args);

before(async () => {
  d = await TestDaemon.start();
  machine = await startMachine({ ns: EXT, hostVeth: HVETH, hostIp: HOST_IP, extIp: EXT_IP, reply: "'pong '+q.socket.remoteAddress" });
});

after(async () => {
  await d?.docker(['rm', '-f', ...(await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean)]).catch(() => {});
  await d?.stop();
  machine?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Only this berthd's: veths on its bridge, its netns files, its nft table's map elements. */
function counts(): { veth: number; netns: number; elements: number } {
  const t = createHash('sha256').update(`${d.dir}/run`).digest('hex').slice(0, 6);
  const links = sh('ip', ['-o', 'link', 'show', 'master', `berth-${t}`]);
  const nft = sh('nft', ['list', 'table', 'ip', `berth_${t}`]);
  return {
    veth: links.split('\n').filter(Boolean).length,
    netns: Number(sh('sh', ['-c', `ls ${d.dir}/run/netns | wc -l`]).trim()),
    elements: (nft.match(/ : [0-9.]+ \. \d+/g) ?? []).length,
  };
}

test('default bridge: eth0 with an address, route, container to container by IP, egress NAT', async () => {
  const out = await ok(['run', '--rm', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route']);
  assert.match(out, /eth0\s+inet (\d+\.\d+\.\d+\.\d+)\/\d+/);
  assert.match(out, /default via/);
  await ok(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo hi > /i; httpd -f -p 80 -h /']);
  const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web'])).trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(await ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${ip}/i`]), 'hi\n');
  // The other machine has no route to the bridge: only masquerade makes this work.
  assert.equal(await ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${EXT_IP}:9000/`]), `pong ${HOST_IP}`);
  await ok(['rm', '-f', 'web']);
});

test('egress works when a Docker-like FORWARD policy DROP is set, and rules go after', async () => {
  const before = sh('iptables', ['-S', 'FORWARD']);
  sh('iptables', ['-P', 'FORWARD', 'DROP']);
  try {
    await d.kill('SIGTERM');
    await d.launch();
    assert.equal(await ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${EXT_IP}:9000/`]), `pong ${HOST_IP}`);
    assert.match(sh('iptables', ['-S', 'FORWARD']), /--comment berth -j ACCEPT/);
  } finally {
    sh('iptables', ['-P', 'FORWARD', /-P FORWARD DROP/.test(before) ? 'DROP' : 'ACCEPT']);
  }
});

test('published TCP and UDP ports: from 127.0.0.1, from another machine, from a container; conflicts', async () => {
  // busybox has no UDP server: the host's socat runs inside through the host's loader.
  const socat = '/h/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path /h/lib/x86_64-linux-gnu:/h/usr/lib/x86_64-linux-gnu /h/usr/bin/socat UDP-RECVFROM:53,fork SYSTEM:"echo udp-ok"';
  await ok(['run', '-d', '--name', 'pub', '-v', '/:/h:ro', '-p', '127.0.0.1::80', '-p', '80', '-p', '5353:53/udp', 'busybox', 'sh', '-c', `echo tcp-ok > /i; httpd -f -p 80 -h / & ${socat} & wait`]);
  const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pub']));
  const local = ports['80/tcp'].find((b: { HostIp: string }) => b.HostIp === '127.0.0.1').HostPort;
  const any = ports['80/tcp'].find((b: { HostIp: string }) => b.HostIp === '0.0.0.0').HostPort;
  assert.equal(ports['53/udp'][0].HostPort, '5353');
  assert.match(await ok(['port', 'pub', '80/tcp']), new RegExp(`127\\.0\\.0\\.1:${local}`));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sh('wget', ['-qO-', '-T', '3', `http://127.0.0.1:${local}/i`]), 'tcp-ok\n');
  assert.equal(inExt(['wget', '-qO-', '-T', '3', `http://${HOST_IP}:${any}/i`]), 'tcp-ok\n');
  assert.equal(await ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:${any}/i`]), 'tcp-ok\n');
  let udp = '';
  for (let i = 0; i < 20 && !udp.includes('udp-ok'); i++) {
    try { udp = inExt(['sh', '-c', `echo x | socat -t 1 - UDP:${HOST_IP}:5353`]); } catch { await new Promise((r) => setTimeout(r, 150)); }
  }
  assert.match(udp, /udp-ok/);
  const dup = await d.docker(['run', '-d', '-p', '5353:53/udp', 'busybox', 'true']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already allocated/);
  // A host process holding the port: a clear error, nothing half-made.
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${Number(any) + 1 > 65535 ? 20000 : Number(any) + 1},'0.0.0.0')`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  try {
    const busy = await d.docker(['run', '--rm', '-p', `${Number(any) + 1}:80`, 'busybox', 'true']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /already in use/);
  } finally {
    holder.kill();
  }
  await ok(['rm', '-f', 'pub']);
});

test('user-defined networks: create/ls/inspect, run --network --ip, --internal, connect/disconnect, rm', async () => {
  await ok(['network', 'create', '--subnet', '10.123.0.0/24', '--label', 'k=v', 'appnet']);
  const dup = await d.docker(['network', 'create', 'appnet']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already exists/);
  const overlap = await d.docker(['network', 'create', '--subnet', '10.123.0.0/16', 'other']);
  assert.notEqual(overlap.code, 0);
  assert.match(overlap.stderr, /overlaps/);
  assert.match(await ok(['network', 'ls', '--filter', 'label=k=v']), /appnet/);
  await ok(['run', '-d', '--name', 'a1', '--network', 'appnet', '--ip', '10.123.0.50', 'busybox', 'sleep', '60']);
  const insp = JSON.parse(await ok(['network', 'inspect', 'appnet']))[0];
  assert.equal(insp.IPAM.Config[0].Subnet, '10.123.0.0/24');
  assert.equal(Object.values<{ IPv4Address: string }>(insp.Containers)[0]!.IPv4Address, '10.123.0.50/24');
  assert.match(await ok(['run', '--rm', '--network', 'appnet', 'busybox', 'ping', '-c1', '-W2', '10.123.0.50']), /1 packets received/);
  const rm = await d.docker(['network', 'rm', 'appnet']);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, /active endpoints/);
  // connect a default-bridge container live, then disconnect it.
  await ok(['run', '-d', '--name', 'b1', 'busybox', 'sleep', '60']);
  await ok(['network', 'connect', 'appnet', 'b1']);
  assert.match(await ok(['exec', 'b1', 'ping', '-c1', '-W2', '10.123.0.50']), /1 packets received/);
  await ok(['network', 'disconnect', 'appnet', 'b1']);
  assert.doesNotMatch(await ok(['exec', 'b1', 'ip', '-o', 'addr']), /10\.123\./);
  // --internal: no way out.
  await ok(['network', 'create', '--internal', 'closed']);
  const out = await d.docker(['run', '--rm', '--network', 'closed', 'busybox', 'timeout', '2', 'wget', '-qO-', `http://${EXT_IP}:9000/`]);
  assert.notEqual(out.code, 0);
  await ok(['rm', '-f', 'a1', 'b1']);
  await ok(['network', 'rm', 'appnet', 'closed']);
  assert.equal((await d.api('GET', '/networks/bridge')).status, 200);
});

test('none, host and container: modes', async () => {
  assert.doesNotMatch(await ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']), /eth0/);
  assert.match(await ok(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']), new RegExp(HVETH));
  await ok(['run', '-d', '--name', 'nsowner', 'busybox', 'sleep', '60']);
  const a = await ok(['exec', 'nsowner', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  const b = await ok(['run', '--rm', '--network', 'container:nsowner', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  assert.equal(b.split(/\s+/)[3], a.split(/\s+/)[3]);
  await ok(['rm', '-f', 'nsowner']);
});

test('IPv6 stays off the interfaces of IPv4-only networks (dockerd 27+), loopback keeps ::1; host untouched; the container\'s own disable_ipv6 decides', { skip: !existsSync('/proc/sys/net/ipv6') && 'the kernel has no IPv6' }, async () => {
  const v6 = ['sh', '-c', 'ip -6 -o addr | cut -d" " -f2,7'];
  // docker run (a start prepared ahead: the interfaces come after the runtime's create).
  assert.equal(await ok(['run', '--rm', 'busybox', ...v6]), 'lo ::1/128\n');
  const [A, B] = [`v6a-${tag}`, `v6b-${tag}`];
  await ok(['network', 'create', A]);
  await ok(['network', 'create', B]);
  try {
    await ok(['run', '-d', '--name', 'v6c', '--network', A, 'busybox', 'sleep', '120']);
    await ok(['network', 'connect', B, 'v6c']);
    assert.equal(await ok(['exec', 'v6c', ...v6]), 'lo ::1/128\n', 'eth1, connected live, too');
    // A restart is not prepared: both interfaces are there before the runtime's create.
    await ok(['restart', '-t', '0', 'v6c']);
    assert.equal(await ok(['exec', 'v6c', ...v6]), 'lo ::1/128\n');
  } finally {
    await d.docker(['rm', '-f', 'v6c']);
    await d.docker(['network', 'rm', A, B]);
  }
  const host = ['default', 'lo'].map((i) => readFileSync(`/proc/sys/net/ipv6/conf/${i}/disable_ipv6`, 'utf8')).join('');
  assert.equal(await ok(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/proc/sys/net/ipv6/conf/default/disable_ipv6', '/proc/sys/net/ipv6/conf/lo/disable_ipv6']), host);
  assert.equal(await ok(['run', '--rm', '--sysctl', 'net.ipv6.conf.all.disable_ipv6=1', 'busybox', ...v6]), '');
  assert.match(await ok(['run', '--rm', '--sysctl', 'net.ipv6.conf.eth0.disable_ipv6=0', 'busybox', ...v6]), /^eth0 fe80::/m);
});

test('127.0.0.11 keeps answering after a disconnect from the primary network while another user network is attached', async () => {
  const A = `pa-${tag}`;
  const B = `pb-${tag}`;
  await ok(['network', 'create', A]);
  await ok(['network', 'create', B]);
  try {
    // --dns on the container's own loopback: no real resolver is ever asked.
    await ok(['run', '-d', '--name', 'dc', '--network', A, '--dns', '127.0.0.1', 'busybox', 'sleep', '120']);
    await ok(['run', '-d', '--name', 'onb', '--network', B, 'busybox', 'sleep', '120']);
    const bIp = (await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${B}").IPAddress}}`, 'onb'])).trim();
    const lookup = async (name: string) => d.docker(['exec', 'dc', 'nslookup', name, '127.0.0.11'], { timeout: 20000 });
    await ok(['network', 'connect', B, 'dc']);
    assert.match((await lookup('onb')).stdout, new RegExp(`Address: ${bIp.replace(/\./g, '\\.')}`));
    await ok(['network', 'disconnect', A, 'dc']);
    // The primary (whose gateway 127.0.0.11 led to) is gone; B still answers.
    const after = await lookup('onb');
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.match(after.stdout, new RegExp(`Address: ${bIp.replace(/\./g, '\\.')}`));
    assert.match(await ok(['exec', 'dc', 'ping', '-c1', '-W2', 'onb']), /1 packets received/);
    // No user network left: nothing answers; the next one joined takes 127.0.0.11 again.
    await ok(['network', 'disconnect', B, 'dc']);
    assert.notEqual((await lookup('onb')).code, 0);
    await ok(['network', 'connect', B, 'dc']);
    assert.match((await lookup('onb')).stdout, new RegExp(`Address: ${bIp.replace(/\./g, '\\.')}`));
  } finally {
    await d.docker(['rm', '-f', 'dc', 'onb']);
    await d.docker(['network', 'rm', A, B]);
  }
});

test('50 run/rm cycles leave no veth, netns or nft element behind', async () => {
  const before = counts();
  for (let i = 0; i < 50; i++) await ok(['run', '--rm', '-p', '80', 'busybox', 'true']);
  // The kernel destroys a removed namespace (and its veth pair) asynchronously.
  let after = counts();
  for (let i = 0; i < 40 && after.veth !== before.veth; i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = counts();
  }
  assert.deepEqual(after, before);
});

test('a veth name still taken (the last namespace not yet destroyed) does not fail the start: another name is used', async () => {
  const id = (await ok(['create', 'busybox', 'sleep', '30'])).trim();
  const net = JSON.parse(await ok(['network', 'inspect', 'bridge']))[0].Id as string;
  // What the kernel leaves for a moment after a stop: a link with the name this endpoint wants.
  const taken = `veth${createHash('sha256').update(id + net).digest('hex').slice(0, 7)}`;
  sh('ip', ['link', 'add', taken, 'type', 'veth', 'peer', 'name', `bt-tk-${tag}`]);
  try {
    await ok(['start', id]);
    const ip = JSON.parse(await ok(['inspect', id]))[0].NetworkSettings.IPAddress as string;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(await ok(['exec', id, 'ip', '-4', 'addr', 'show', 'eth0']), new RegExp(ip.replaceAll('.', '\\.')));
    // The renamed veth was saved: a disconnect deletes it (and its peer) at once. Found by
    // the host-side index eth0 points at (other tests make veths meanwhile).
    const hostIndex = (await ok(['exec', id, 'cat', '/sys/class/net/eth0/iflink'])).trim();
    const hostVeth = () => sh('ip', ['-o', 'link', 'show', 'type', 'veth']).split('\n').find((l) => l.startsWith(`${hostIndex}: `));
    const name = hostVeth()?.split(': ')[1]?.split('@')[0];
    assert.ok(name && name !== taken, `the container's host veth: ${name}`);
    await ok(['network', 'disconnect', 'bridge', id]);
    assert.equal(hostVeth(), undefined, 'the disconnect removed the veth it made');
  } finally {
    sh('ip', ['link', 'del', taken]);
    await ok(['rm', '-f', id]);
  }
});
