/**
 * berth's own network and port commands against a real berthd: docker's flags,
 * output formats and errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const NET = `cli-${tag}`;
const octet = 100 + (parseInt(tag.slice(0, 2), 16) % 100);
const SUBNET = `10.${octet}.40.0/24`;

before(async () => { d = await TestDaemon.start(); });
after(async () => {
  const ids = (await d?.berth(['ps', '-aq']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.berth(['rm', '-f', ...ids]).catch(() => {});
  await d?.berth(['network', 'rm', '-f', NET, `${NET}-b`]).catch(() => {});
  await d?.stop();
});

async function berth(args: string[], code = 0): Promise<{ stdout: string; stderr: string }> {
  const r = await d.berth(args, { timeout: 30000 });
  assert.equal(r.code, code, `berth ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

test('network create, ls (table, -q, --filter, --format), inspect, rm, prune', async () => {
  const id = (await berth(['network', 'create', '--subnet', SUBNET, '--gateway', `10.${octet}.40.254`, '--label', 'team=a', '--internal', NET])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ls = (await berth(['network', 'ls'])).stdout.split('\n');
  assert.match(ls[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  assert.ok(ls.some((l) => new RegExp(`^${id.slice(0, 12)}\\s+${NET}\\s+bridge\\s+local$`).test(l)), ls.join('\n'));
  assert.ok(ls.some((l) => /\sbridge\s+bridge\s+local$/.test(l)) && ls.some((l) => /\shost\s+host\s+local$/.test(l)) && ls.some((l) => /\snone\s+null\s+local$/.test(l)));
  assert.equal((await berth(['network', 'ls', '-q', '--filter', 'label=team=a'])).stdout, id.slice(0, 12) + '\n');
  assert.equal((await berth(['network', 'ls', '--no-trunc', '-q', '-f', `name=${NET}`])).stdout, id + '\n');
  assert.equal((await berth(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}} {{.Internal}} {{.Label "team"}}'])).stdout, `${NET} true a\n`);
  const info = JSON.parse((await berth(['network', 'inspect', NET])).stdout);
  assert.equal(info[0].Id, id);
  assert.deepEqual(info[0].IPAM.Config, [{ Subnet: SUBNET, Gateway: `10.${octet}.40.254` }]);
  assert.equal((await berth(['network', 'inspect', '-f', '{{.Driver}} {{.Internal}}', NET])).stdout, 'bridge true\n');
  // Bad input: clear errors, nothing created.
  assert.match((await berth(['network', 'create', NET], 1)).stderr, /already exists/);
  assert.match((await berth(['network', 'create', '--subnet', SUBNET, `${NET}-b`], 1)).stderr, /overlaps/);
  assert.match((await berth(['network', 'create', '--gateway', '10.0.0.1', `${NET}-b`], 1)).stderr, /corresponding subnet/);
  assert.match((await berth(['network', 'inspect', 'no-such-net'], 1)).stderr, /^Error response from daemon: network no-such-net not found\n$/);
  assert.match((await berth(['network', 'rm', 'bridge'], 1)).stderr, /pre-defined network and cannot be removed/);
  assert.equal((await berth(['network', 'ls', '-q', '-f', `name=${NET}-b`])).stdout, '');
  assert.equal((await berth(['network', 'rm', NET])).stdout, `${NET}\n`);
  await berth(['network', 'rm', '-f', NET]);
  await berth(['network', 'create', `${NET}-b`]);
  const pr = await berth(['network', 'prune', '-f']);
  assert.match(pr.stdout, new RegExp(`^Deleted Networks:\\n(.*\\n)*${NET}-b\\n`));
});

test('run --network/--network-alias/--ip, connect/disconnect, port', async () => {
  await berth(['network', 'create', '--subnet', SUBNET, NET]);
  const ip = `10.${octet}.40.77`;
  await berth(['run', '-d', '--name', 'srv', '--network', NET, '--network-alias', 'api', '--ip', ip, '-p', '127.0.0.1::80', '-p', '9053:53/udp', 'busybox', 'sleep', '300']);
  const nets = JSON.parse((await berth(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'srv'])).stdout);
  assert.equal(nets[NET].IPAddress, ip);
  assert.ok(nets[NET].DNSNames.includes('api'));
  const port = (await berth(['port', 'srv'])).stdout.split('\n').filter(Boolean);
  assert.equal(port.length, 2);
  assert.equal(port[0], '53/udp -> 0.0.0.0:9053');
  assert.match(port[1]!, /^80\/tcp -> 127\.0\.0\.1:\d+$/);
  assert.equal((await berth(['port', 'srv', '53/udp'])).stdout, '0.0.0.0:9053\n');
  assert.equal((await berth(['container', 'port', 'srv', '80'])).stdout, port[1]!.replace('80/tcp -> ', '') + '\n');
  assert.match((await berth(['port', 'srv', '81'], 1)).stderr, /No public port '81\/tcp' published for srv/);
  // The address is taken: a clear error, and the container is not left half-connected.
  await berth(['run', '-d', '--name', 'cli2', 'busybox', 'sleep', '300']);
  assert.match((await berth(['network', 'connect', '--ip', ip, NET, 'cli2'], 1)).stderr, /already in use/);
  await berth(['network', 'connect', '--alias', 'two', NET, 'cli2']);
  const two = JSON.parse((await berth(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'cli2'])).stdout);
  assert.deepEqual(Object.keys(two).sort(), ['bridge', NET].sort());
  // cli2's resolv.conf is the host's (default bridge first, like docker): ask the embedded server directly.
  const gw = (await berth(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', NET])).stdout.trim();
  assert.match((await berth(['exec', 'cli2', 'nslookup', 'api', gw])).stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
  assert.match((await berth(['exec', 'cli2', 'ping', '-c1', '-W2', ip])).stdout, /1 packets received/);
  assert.match((await berth(['network', 'rm', NET], 1)).stderr, /active endpoints/);
  await berth(['network', 'disconnect', NET, 'cli2']);
  assert.match((await berth(['network', 'disconnect', NET, 'cli2'], 1)).stderr, /is not connected/);
  assert.match((await berth(['run', '--rm', '--network', 'none', '--network-alias', 'x', 'busybox', 'true'], 125)).stderr, /network-scoped aliases are only supported for user-defined networks/);
  await berth(['rm', '-f', 'srv', 'cli2']);
  await berth(['network', 'rm', NET]);
});

test('network prune: label! keeps the labelled networks (docker system prune --filter label!=...), destroy events for the rest', async () => {
  const t0 = Date.now() / 1000 - 0.001;
  const keep = `pk-${tag}`;
  const drop = `pd-${tag}`;
  assert.equal((await d.docker(['network', 'create', '--label', 'keep=1', keep])).code, 0);
  assert.equal((await d.docker(['network', 'create', drop])).code, 0);
  try {
    const r = await d.docker(['system', 'prune', '-f', '--filter', 'label!=keep']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Deleted Networks:\\n${drop}\\n`));
    const left = (await d.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n');
    assert.ok(left.includes(keep) && !left.includes(drop), left.join(' '));
    const ev = await d.docker(['events', '--since', String(t0), '--until', String(Date.now() / 1000), '--filter', 'type=network', '--filter', 'event=destroy', '--format', '{{.Actor.Attributes.name}}']);
    assert.equal(ev.stdout.trim(), drop);
    assert.equal(JSON.parse((await d.docker(['network', 'inspect', keep])).stdout)[0].EnableIPv4, true);
  } finally {
    await d.docker(['network', 'rm', keep, drop]).catch(() => {});
  }
});
