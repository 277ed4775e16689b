/**
 * `run --link`, `--mac-address`, `--ip6` and `--link-local-ip` end to end, with the
 * docker CLI and berth's own: legacy links on the default bridge (/etc/hosts line,
 * env vars, inspect's "/target:/linker/alias", dockerd's errors for a missing or
 * stopped target), links on a user-defined network (a name only the linking
 * container resolves, also through `network connect --link`), a container's MAC
 * address, and IPv6 requests refused at create in one line (berth is IPv4-only).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestDaemon, run } from '../testing/daemon.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const NET = `nf-${tag}`;
const COMPOSE_BIN = '/usr/bin/docker-compose';

before(async () => {
  d = await TestDaemon.start();
  await ok(['network', 'create', NET]);
});

after(async () => {
  await d?.stop();
});

async function ok(args: string[], cli: 'docker' | 'berth' = 'docker'): Promise<string> {
  const r = await d[cli](args, { timeout: 30000 });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function inspect(name: string): Promise<{ HostConfig: { Links: string[] | null }; NetworkSettings: { MacAddress: string; Networks: Record<string, { IPAddress: string; MacAddress: string; Links: string[] | null }> } }> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200);
  return r.json();
}

const containerCount = async () => (await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length;

test('--link on the default bridge: /etc/hosts, legacy env vars, inspect; missing and stopped targets fail like dockerd', async () => {
  await ok(['run', '-d', '--name', 'db', '-e', 'DBPASS=s3cret', '--expose', '5432', '--expose', '5433', 'busybox', 'sleep', '300']);
  const db = await inspect('db');
  const ip = db.NetworkSettings.Networks.bridge!.IPAddress;
  const dbId = (await d.api('GET', '/containers/db/json')).json<{ Id: string }>().Id;
  for (const cli of ['docker', 'berth'] as const) {
    const name = `web-${cli}`;
    const out = await ok(['run', '--name', name, '--link', 'db:database', 'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; env | sort; echo ---; ping -c1 -W2 database >/dev/null && echo ping-ok'], cli);
    const [hosts, env, ping] = out.split('---\n');
    assert.match(hosts!, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tdatabase ${dbId.slice(0, 12)} db$`, 'm'), hosts);
    const vars = env!.trim().split('\n');
    for (const v of [
      `DATABASE_PORT=tcp://${ip}:5432`, `DATABASE_PORT_5432_TCP=tcp://${ip}:5432`, `DATABASE_PORT_5432_TCP_ADDR=${ip}`,
      'DATABASE_PORT_5432_TCP_PORT=5432', 'DATABASE_PORT_5432_TCP_PROTO=tcp', 'DATABASE_PORT_5433_TCP_PORT=5433',
      `DATABASE_PORT_5432_TCP_START=tcp://${ip}:5432`, 'DATABASE_PORT_5432_TCP_PORT_END=5433',
      `DATABASE_NAME=/${name}/database`, 'DATABASE_ENV_DBPASS=s3cret',
    ]) assert.ok(vars.includes(v), `${cli}: ${v} missing from\n${env}`);
    assert.ok(!vars.some((v) => v.startsWith('DATABASE_ENV_PATH=')), 'PATH is not passed on');
    assert.equal(ping!.trim(), 'ping-ok');
    assert.deepEqual((await inspect(name)).HostConfig.Links, [`/db:/${name}/database`]);
  }

  // The target comes back with another address: the linking container's line follows.
  await ok(['run', '-d', '--name', 'web-live', '--link', 'db:database', 'busybox', 'sleep', '300']);
  await ok(['stop', '-t', '0', 'db']);
  await ok(['run', '-d', '--name', 'ip-taker', 'busybox', 'sleep', '300']);
  await ok(['start', 'db']);
  const ip2 = (await inspect('db')).NetworkSettings.Networks.bridge!.IPAddress;
  assert.notEqual(ip2, ip, 'db was given another address');
  const live = await ok(['exec', 'web-live', 'cat', '/etc/hosts']);
  assert.match(live, new RegExp(`^${ip2.replace(/\./g, '\\.')}\\tdatabase ${dbId.slice(0, 12)} db$`, 'm'), live);
  assert.doesNotMatch(live, new RegExp(`^${ip.replace(/\./g, '\\.')}\\t`, 'm'));

  // A missing target: 400 at create (not 404: the CLI would try to pull the image).
  const missing = await d.docker(['run', '--link', 'nope:x', 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /could not get container for nope: No such container: nope/);
  const api = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Links: ['nope:x'] } });
  assert.equal(api.status, 400);
  const bad = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Links: ['a:b:c'] } });
  assert.equal(bad.status, 400);
  assert.match(bad.json<{ message: string }>().message, /bad format for links: a:b:c/);
  // A stopped target: the create works, the start fails (500, dockerd's words).
  await ok(['create', '--name', 'sleeper', 'busybox', 'true']);
  const stopped = await d.docker(['run', '--name', 'lk-stopped', '--link', 'sleeper:s', 'busybox', 'true']);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /Cannot link to a non running container: \/sleeper AS \/lk-stopped\/s/);
  const st = await d.api('POST', '/containers/lk-stopped/start');
  assert.equal(st.status, 500);
  // Host networking and links do not mix.
  const host = await d.docker(['run', '--network', 'host', '--link', 'db', 'busybox', 'true']);
  assert.match(host.stderr, /conflicting options: host type networking can't be used with links/);
});

test('--link on a user-defined network: an alias only the linking container resolves; network connect --link', async () => {
  await ok(['run', '-d', '--name', 'u1', '--network', NET, 'busybox', 'sh', '-c', 'echo u1 > /i; exec httpd -f -p 80 -h /']);
  for (const cli of ['docker', 'berth'] as const) {
    const out = await ok(['run', '--rm', '--network', NET, '--link', 'u1:backend', 'busybox', 'wget', '-qO-', 'http://backend/i'], cli);
    assert.equal(out.trim(), 'u1', cli);
  }
  // Another container on the same network does not see the alias.
  const other = await d.docker(['run', '--rm', '--network', NET, 'busybox', 'wget', '-qO-', 'http://backend/i']);
  assert.notEqual(other.code, 0, 'the alias is scoped to the linking container');
  assert.match(other.stderr, /bad address 'backend'/);
  // Stopped container, reconnected with a link (docker-compose 1.x does exactly this).
  await ok(['create', '--name', 'c3', '--network', NET, '--network-alias', 'c3a', 'busybox', 'sh', '-c', 'wget -qO- http://api/i; sleep 300']);
  await ok(['network', 'disconnect', NET, 'c3']);
  await ok(['network', 'connect', '--link', 'u1:api', NET, 'c3']);
  await ok(['start', 'c3']);
  assert.deepEqual((await inspect('c3')).NetworkSettings.Networks[NET]!.Links, ['u1:api']);
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('u1'); i++) {
    logs = await ok(['logs', 'c3']);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs.trim(), 'u1');
  // Legacy HostConfig.Links are not registered on a user network (dockerd): inspect shows none.
  assert.equal((await inspect('c3')).HostConfig.Links, null);
});

test('--mac-address: the interface has it, inspect shows it; invalid MACs are refused', async () => {
  const mac = '92:d0:c6:0a:29:33';
  assert.equal((await ok(['run', '--rm', '--mac-address', mac, 'busybox', 'cat', '/sys/class/net/eth0/address'])).trim(), mac);
  assert.equal((await ok(['run', '--rm', '--network', NET, '--mac-address', '92:D0:C6:0A:29:34', 'busybox', 'cat', '/sys/class/net/eth0/address'], 'berth')).trim(), '92:d0:c6:0a:29:34');
  await ok(['run', '-d', '--name', 'm1', '--mac-address', '92:d0:c6:0a:29:35', 'busybox', 'sleep', '300']);
  const m1 = await inspect('m1');
  assert.equal(m1.NetworkSettings.Networks.bridge!.MacAddress, '92:d0:c6:0a:29:35');
  assert.equal(m1.NetworkSettings.MacAddress, '92:d0:c6:0a:29:35');
  // API < 1.44: the container-wide Config.MacAddress.
  const old = await d.api('POST', '/v1.43/containers/create?name=m-old', { Image: 'busybox', Cmd: ['sleep', '300'], MacAddress: '02:42:ac:11:99:01' });
  assert.equal(old.status, 201, old.body.toString());
  assert.equal((await d.api('POST', '/containers/m-old/start')).status, 204);
  assert.equal((await inspect('m-old')).NetworkSettings.Networks.bridge!.MacAddress, '02:42:ac:11:99:01');
  // docker connect carries a MAC too (EndpointConfig.MacAddress).
  const cn = await d.api('POST', `/networks/${NET}/connect`, { Container: 'm1', EndpointConfig: { MacAddress: '92:d0:c6:0a:29:36' } });
  assert.equal(cn.status, 200, cn.body.toString());
  assert.equal((await ok(['exec', 'm1', 'cat', '/sys/class/net/eth1/address'])).trim(), '92:d0:c6:0a:29:36');

  const before = await containerCount();
  for (const cli of ['docker', 'berth'] as const) {
    const r = await d[cli](['run', '--mac-address', 'zz:d0:c6:0a:29:33', 'busybox', 'true']);
    assert.equal(r.code, 125, cli);
    assert.match(r.stderr, /zz:d0:c6:0a:29:33 is not a valid mac address/, cli);
  }
  const api = await d.api('POST', '/containers/create', { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: 'nope' } } } });
  assert.equal(api.status, 400);
  assert.equal(api.json<{ message: string }>().message, 'invalid config for network bridge: invalid MAC address nope');
  const host = await d.api('POST', '/v1.43/containers/create', { Image: 'busybox', MacAddress: '92:d0:c6:0a:29:37', HostConfig: { NetworkMode: 'host' } });
  assert.equal(host.status, 400);
  assert.match(host.json<{ message: string }>().message, /conflicting options: mac-address and the network mode/);
  assert.equal(await containerCount(), before, 'refused creates leave nothing');
});

test('--ip6 and --link-local-ip: refused at create in one line (berth is IPv4-only), nothing created', async () => {
  const before = await containerCount();
  for (const cli of ['docker', 'berth'] as const) {
    const r6 = await d[cli](['run', '--network', NET, '--ip6', '2001:db8::33', 'busybox', 'true']);
    assert.equal(r6.code, 125, `${cli}: ${r6.stderr}`);
    assert.match(r6.stderr, new RegExp(`invalid config for network ${NET}: user specified IPv6 address 2001:db8::33 is not supported: berth networks are IPv4-only; remove --ip6`), cli);
    const ll = await d[cli](['run', '--link-local-ip', '169.254.10.10', 'busybox', 'true']);
    assert.equal(ll.code, 125, `${cli}: ${ll.stderr}`);
    assert.match(ll.stderr, /link-local IP addresses \(169\.254\.10\.10\) are not supported by berth; remove --link-local-ip/, cli);
  }
  for (const cli of ['docker', 'berth'] as const) {
    const cn = await d[cli](['network', 'connect', '--ip6', '2001:db8::34', NET, 'db']);
    assert.notEqual(cn.code, 0, cli);
    assert.match(cn.stderr, /IPv6 address 2001:db8::34 is not supported/, cli);
  }
  assert.equal((await inspect('db')).NetworkSettings.Networks[NET], undefined, 'not connected');
  assert.equal(await containerCount(), before);
});

test('docker-compose 1.29 links:', { skip: !existsSync(COMPOSE_BIN) && 'docker-compose is not installed', timeout: 60000 }, async () => {
  const dir = await mkdtemp('/tmp/bt-compose-');
  const project = `lk${tag}`;
  const compose = (args: string[]) => run(COMPOSE_BIN, ['-p', project, '-f', join(dir, 'docker-compose.yml'), '--ansi', 'never', ...args], { DOCKER_HOST: d.host }, { timeout: 40000 });
  try {
    await writeFile(join(dir, 'docker-compose.yml'), [
      'version: "2.4"',
      'services:',
      '  db:',
      '    image: busybox',
      '    command: sh -c "echo from-db > /i; exec httpd -f -p 80 -h /"',
      '  web:',
      '    image: busybox',
      '    links: ["db:database"]',
      '    command: sh -c "sleep 300"',
      '',
    ].join('\n'));
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    let out = '';
    for (let i = 0; i < 20 && out.trim() !== 'from-db'; i++) {
      const r = await compose(['exec', '-T', 'web', 'wget', '-qO-', 'http://database/i']);
      out = r.stdout;
      if (out.trim() !== 'from-db') await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(out.trim(), 'from-db');
  } finally {
    await compose(['down', '-t', '0']);
    await rm(dir, { recursive: true, force: true });
  }
});
