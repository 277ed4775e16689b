/**
 * berth beside what is not its own: interfaces an admin made, and other berthds on the
 * same host (their bridges, subnets and published ports).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';
import { freePorts } from '../testing/free-ports.js';
import { freeOctet, ownerTag, sweepStale } from '../testing/netns.js';

let a: TestDaemon;
let b: TestDaemon;
const tag = ownerTag(); // the owner's pid: a suite beside this one does not sweep it
sweepStale('bt-nb', 'bnv');
sweepStale('bt-nb', 'bnw');
sweepStale('bt-nb', 'bnr');
const VETH = `bnv${tag}`;
const PEER = `bnw${tag}`;
const ADMIN_BR = `bnr${tag}`;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
const link = (name: string) => { try { return sh('ip', ['-o', 'link', 'show', 'dev', name]); } catch { return ''; } };
const mac = (name: string) => /link\/ether ([0-9a-f:]+)/.exec(link(name))?.[1];
const addrs = (name: string) => { try { return sh('ip', ['-o', '-4', 'addr', 'show', 'dev', name]); } catch { return ''; } };
const routes = () => sh('ip', ['-4', 'route', 'show']);
/** How many interfaces carry this address. */
const holders = (ip: string) => sh('ip', ['-o', '-4', 'addr']).split('\n').filter((l) => l.includes(` inet ${ip}/`)).length;
const gatewayOf = (subnet: string) => subnet.replace(/\.0\/\d+$/, '.1');
const subnetOf = async (d: TestDaemon, net: string) => (await ok(d, ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', net])).trim();
const tableOf = (d: TestDaemon) => sh('nft', ['list', 'table', 'ip', `berth_${createHash('sha256').update(`${d.dir}/run`).digest('hex').slice(0, 6)}`]);
const defaultBridge = (d: TestDaemon) => `berth-${createHash('sha256').update(`${d.dir}/run`).digest('hex').slice(0, 6)}`;

before(async () => {
  [a, b] = await Promise.all([TestDaemon.start(), TestDaemon.start()]);
});

after(async () => {
  for (const d of [a, b]) {
    const nets = (await d?.docker(['network', 'ls', '-q', '--filter', 'type=custom']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
    if (nets.length) await d.docker(['network', 'rm', ...nets]).catch(() => {});
  }
  await Promise.all([a?.stop(), b?.stop()]);
  for (const l of [VETH, ADMIN_BR]) if (link(l)) sh('ip', ['link', 'del', l]);
});

async function ok(d: TestDaemon, args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('com.docker.network.bridge.name: an interface that is no bridge is refused and left alone', async () => {
  const octet = freeOctet(96, 100, 200);
  sh('ip', ['link', 'add', VETH, 'type', 'veth', 'peer', 'name', PEER]);
  try {
    const before = mac(VETH);
    const r = await a.docker(['network', 'create', '-o', `com.docker.network.bridge.name=${VETH}`, '--subnet', `10.${octet}.96.0/24`, 'nb-veth']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`existing interface ${VETH} is not a bridge`));
    assert.equal(mac(VETH), before, 'MAC untouched');
    assert.doesNotMatch(addrs(VETH), /inet /, 'no address added');
    assert.ok(link(VETH) && link(PEER), 'the veth pair is still there');
    assert.equal((await ok(a, ['network', 'ls', '-q', '--filter', 'name=nb-veth'])).trim(), '');
  } finally {
    if (link(VETH)) sh('ip', ['link', 'del', VETH]);
  }
});

test("com.docker.network.bridge.name: an admin's bridge is used, keeps its MAC, and outlives network rm and berthd's stop", async () => {
  const octet = freeOctet(97, 100, 200);
  sh('ip', ['link', 'add', ADMIN_BR, 'type', 'bridge']);
  try {
    sh('ip', ['link', 'set', ADMIN_BR, 'address', '02:00:00:aa:bb:cc']);
    await ok(a, ['network', 'create', '-o', `com.docker.network.bridge.name=${ADMIN_BR}`, '--subnet', `10.${octet}.97.0/24`, 'nb-admin']);
    assert.equal(mac(ADMIN_BR), '02:00:00:aa:bb:cc');
    assert.match(addrs(ADMIN_BR), new RegExp(`inet 10\\.${octet}\\.97\\.1/24`));
    assert.match(await ok(a, ['run', '--rm', '--network', 'nb-admin', 'busybox', 'ping', '-c1', '-W2', `10.${octet}.97.1`]), /1 packets received/);
    // berthd stopping with no container left: the bridge is not berth's to delete.
    await a.kill('SIGTERM');
    assert.ok(link(ADMIN_BR), 'the bridge outlived berthd');
    await a.launch();
    await ok(a, ['network', 'rm', 'nb-admin']);
    assert.ok(link(ADMIN_BR), 'the bridge outlived network rm');
    assert.equal(mac(ADMIN_BR), '02:00:00:aa:bb:cc');
    assert.doesNotMatch(addrs(ADMIN_BR), /inet /, "berth's address went with the network");
  } finally {
    await a.docker(['network', 'rm', 'nb-admin']).catch(() => {});
    if (link(ADMIN_BR)) sh('ip', ['link', 'del', ADMIN_BR]);
  }
});

test("com.docker.network.bridge.name: another berthd's bridges are refused", async () => {
  const theirs = `br-${(await ok(b, ['network', 'create', 'nb-theirs'])).trim().slice(0, 12)}`;
  assert.ok(link(theirs), "b's user bridge exists");
  for (const name of [defaultBridge(b), theirs]) {
    const before = mac(name);
    const r = await a.docker(['network', 'create', '-o', `com.docker.network.bridge.name=${name}`, `nb-steal-${name}`]);
    assert.notEqual(r.code, 0, `${name} was taken over`);
    assert.match(r.stderr, /belongs to another berthd/);
    assert.equal(mac(name), before);
  }
  await ok(b, ['network', 'rm', 'nb-theirs']);
});

test('a stopped berthd keeps its bridges: another berthd does not take their subnets meanwhile', async () => {
  const bDefault = await subnetOf(b, 'bridge');
  const keepBridge = `br-${(await ok(b, ['network', 'create', 'nb-keep'])).trim().slice(0, 12)}`;
  const bUser = await subnetOf(b, 'nb-keep');
  await b.kill('SIGTERM');
  try {
    const grabbed = [];
    for (const n of ['nb-grab1', 'nb-grab2']) {
      await ok(a, ['network', 'create', n]);
      grabbed.push(await subnetOf(a, n));
    }
    for (const g of grabbed) assert.ok(g !== bDefault && g !== bUser, `a took ${g}, a subnet of the stopped berthd (${bDefault}, ${bUser})`);
    assert.ok(link(defaultBridge(b)) && link(keepBridge), 'the bridges outlived berthd');
    assert.ok(routes().includes(`${bDefault} dev ${defaultBridge(b)}`) && routes().includes(`${bUser} dev ${keepBridge}`), routes());
    // Its nft table went with it: the bridge's alias still says whose it is.
    const steal = await a.docker(['network', 'create', '-o', `com.docker.network.bridge.name=${keepBridge}`, 'nb-steal-kept']);
    assert.notEqual(steal.code, 0);
    assert.match(steal.stderr, /belongs to another berthd/);
  } finally {
    await b.launch();
  }
  assert.equal(await subnetOf(b, 'bridge'), bDefault);
  assert.equal(await subnetOf(b, 'nb-keep'), bUser);
  assert.match(addrs(defaultBridge(b)), new RegExp(`inet ${gatewayOf(bDefault).replace(/\./g, '\\.')}/`));
  assert.match(addrs(keepBridge), new RegExp(`inet ${gatewayOf(bUser).replace(/\./g, '\\.')}/`));
  await ok(a, ['network', 'rm', 'nb-grab1', 'nb-grab2']);
  await ok(b, ['network', 'rm', 'nb-keep']);
  assert.ok(!link(keepBridge), 'network rm deletes the bridge berth made');
});

test('a restarting berthd leaves down a network whose subnet another engine took meanwhile, and moves its default bridge', async () => {
  const bDefault = await subnetOf(b, 'bridge');
  // Off docker's pools: no other engine on this host picks it by itself.
  const bLost = `10.${freeOctet(98, 100, 200)}.98.0/24`;
  const lostBridge = `br-${(await ok(b, ['network', 'create', '--subnet', bLost, 'nb-lost'])).trim().slice(0, 12)}`;
  await b.kill('SIGTERM');
  let down = true;
  // What a reboot does when the other engine comes up first and picks these subnets.
  for (const l of [defaultBridge(b), lostBridge]) sh('ip', ['link', 'del', l]);
  try {
    await ok(a, ['network', 'create', '--subnet', bLost, 'nb-took1']);
    const took0 = await a.docker(['network', 'create', '--subnet', bDefault, 'nb-took0']);
    // Another engine on this host may have been quicker: taken all the same.
    if (took0.code !== 0) assert.match(took0.stderr, /overlaps/);
    await b.launch();
    down = false;
    assert.equal(holders(gatewayOf(bLost)), 1, `one interface with ${gatewayOf(bLost)}`);
    assert.match(b.log, new RegExp(`network nb-lost cannot be brought up: its subnet ${bLost.replace(/\./g, '\\.')} overlaps`));
    assert.ok(!link(lostBridge));
    const moved = await subnetOf(b, 'bridge');
    assert.notEqual(moved, bDefault);
    assert.doesNotMatch(addrs(defaultBridge(b)), new RegExp(`inet ${gatewayOf(bDefault).replace(/\./g, '\\.')}/`));
    assert.match(b.log, /the default bridge moves from/);
    assert.match(await ok(b, ['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${moved.split('.').slice(0, 2).join('\\.')}\\.`));
    const r = await b.docker(['run', '--rm', '--network', 'nb-lost', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nb-lost cannot be brought up: its subnet .* overlaps/);
    // Once the other engine lets the subnet go, the network comes up at its next use.
    await ok(a, ['network', 'rm', 'nb-took1']);
    await ok(b, ['run', '--rm', '--network', 'nb-lost', 'busybox', 'true']);
    assert.ok(link(lostBridge));
  } finally {
    if (down) await b.launch();
    await a.docker(['network', 'rm', 'nb-took0', 'nb-took1']).catch(() => {});
    await b.docker(['network', 'rm', 'nb-lost']).catch(() => {});
  }
});

test("another berthd's published ports are taken: a fixed one is refused, a range skips them", async () => {
  const port = await freePorts(10);
  try {
    await ok(b, ['run', '-d', '--name', 'pub-b', '-p', `${port}-${port + 8}:80-88`, 'busybox', 'sleep', '300']);
    const r = await a.docker(['run', '-d', '--name', 'pub-a', '-p', `${port}:80`, 'busybox', 'sleep', '300']);
    assert.notEqual(r.code, 0, 'a published a port b publishes');
    assert.match(r.stderr, new RegExp(`failed to bind host port 0\\.0\\.0\\.0:${port}/tcp: address already in use`));
    assert.doesNotMatch(tableOf(a), new RegExp(`\\b${port} :`), 'nothing mapped on a');
    await a.docker(['rm', '-f', 'pub-a']);
    await ok(a, ['run', '-d', '--name', 'pub-a', '-p', `${port}-${port + 9}:80`, 'busybox', 'sleep', '300']);
    assert.equal((await ok(a, ['port', 'pub-a', '80/tcp'])).trim(), `0.0.0.0:${port + 9}`);
  } finally {
    await a.docker(['rm', '-f', 'pub-a']).catch(() => {});
    await b.docker(['rm', '-f', 'pub-b']).catch(() => {});
  }
});
