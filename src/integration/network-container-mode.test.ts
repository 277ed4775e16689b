/**
 * `--network container:<x>` (compose's `network_mode: service:x`) end to end: the
 * joining container takes x's hostname and x's /etc/hosts, /etc/hostname and
 * /etc/resolv.conf (so it resolves names through x's embedded DNS), as with dockerd,
 * and keeps working when x restarts or goes; the options that would change x's network
 * are refused as dockerd refuses them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestDaemon, run } from '../testing/daemon.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const NET = `cm-${tag}`;
const COMPOSE_BIN = '/usr/bin/docker-compose';

before(async () => {
  d = await TestDaemon.start();
  await ok(['network', 'create', NET]);
});

after(async () => {
  await d?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Inspect { HostnamePath: string; HostsPath: string; ResolvConfPath: string; Config: { Hostname: string }; NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }
async function inspect(name: string): Promise<Inspect> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.body.toString());
  return r.json();
}

test('container:<x> uses x\'s hostname, /etc files and embedded DNS; inspect shows x\'s paths; x restarted or removed', { timeout: 60000 }, async () => {
  await ok(['run', '-d', '--name', 'srv', '--network', NET, '--network-alias', 'web', '-h', 'srvhost', 'busybox', 'httpd', '-f', '-p', '80']);
  const srvIp = (await inspect('srv')).NetworkSettings.Networks[NET]!.IPAddress;
  const srvFiles = await ok(['exec', 'srv', 'cat', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  assert.match(srvFiles, /^nameserver 127\.0\.0\.11$/m);

  const out = await ok(['run', '--rm', '--network', 'container:srv', 'busybox', 'sh', '-c', 'hostname; echo "$HOSTNAME"; echo ---; cat /etc/hostname /etc/hosts /etc/resolv.conf; echo ---; nslookup web']);
  const [names, files, lookup] = out.split('---\n');
  assert.equal(names, 'srvhost\nsrvhost\n');
  assert.equal(files, srvFiles, 'the joiner reads x\'s very files');
  assert.match(lookup!, /Server:\s+127\.0\.0\.11/);
  assert.match(lookup!, new RegExp(`Name:\\s+web\\nAddress:\\s+${srvIp.replace(/\./g, '\\.')}`), lookup);

  await ok(['run', '-d', '--name', 'side', '--network', 'container:srv', 'busybox', 'sleep', '300']);
  const [side, srv] = [await inspect('side'), await inspect('srv')];
  assert.deepEqual([side.HostnamePath, side.HostsPath, side.ResolvConfPath], [srv.HostnamePath, srv.HostsPath, srv.ResolvConfPath]);
  assert.equal(side.Config.Hostname, 'srvhost');

  // x stopped: the joiner still execs (its namespaces are its own process's).
  await ok(['stop', '-t', '0', 'srv']);
  assert.equal((await ok(['exec', 'side', 'hostname'])).trim(), 'srvhost');
  // x back at another address (a taker holds the old one): the joiner's /etc/hosts
  // follows, for x rewrites its files in place, as dockerd does.
  await ok(['run', '-d', '--name', 'taker', '--network', NET, 'busybox', 'sleep', '300']);
  await ok(['start', 'srv']);
  const srvIp2 = (await inspect('srv')).NetworkSettings.Networks[NET]!.IPAddress;
  assert.notEqual(srvIp2, srvIp);
  assert.match(await ok(['exec', 'side', 'cat', '/etc/hosts']), new RegExp(`^${srvIp2.replace(/\./g, '\\.')}\\tsrvhost$`, 'm'));
  // A restarted joiner joins x's new namespace.
  await ok(['restart', '-t', '0', 'side']);
  assert.match(await ok(['exec', 'side', 'ip', '-o', '-4', 'addr', 'show', 'eth0']), new RegExp(` ${srvIp2.replace(/\./g, '\\.')}/`));

  // x removed: the joiner still execs; its next start fails as dockerd's does.
  await ok(['rm', '-f', 'srv']);
  assert.equal((await ok(['exec', 'side', 'hostname'])).trim(), 'srvhost');
  const st = await d.api('POST', '/containers/side/restart?t=0');
  assert.equal(st.status, 404, st.body.toString());
  assert.match(st.json<{ message: string }>().message, /No such container: srv/);
  await ok(['rm', '-f', 'side', 'taker']);
});

/** The veths on NET's bridge (found by its gateway address). */
async function bridgePorts(): Promise<number> {
  const gw = (await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', NET])).trim();
  const sh = (args: string[]) => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 10000 });
  const br = sh(['ip', '-o', '-4', 'addr', 'show', 'to', `${gw}/32`]).split(/\s+/)[1]!;
  return sh(['ip', '-o', 'link', 'show', 'master', br]).split('\n').filter(Boolean).length;
}

/** bridgePorts once it is n: a namespace removed dies (with its veth) asynchronously in the kernel. */
async function portsSettle(n: number): Promise<number> {
  let got = await bridgePorts();
  for (let i = 0; i < 30 && got !== n; i++) {
    await new Promise((r) => setTimeout(r, 100));
    got = await bridgePorts();
  }
  return got;
}

test('x stopped while a joiner runs: x\'s veth leaves the bridge (x restarted is reachable, its address not doubled)', { timeout: 60000 }, async () => {
  await ok(['run', '-d', '--name', 'srv2', '--network', NET, 'busybox', 'sh', '-c', 'echo hi > /i; exec httpd -f -p 80 -h /']);
  await ok(['run', '-d', '--name', 'side2', '--network', 'container:srv2', 'busybox', 'sleep', '300']);
  assert.equal(await portsSettle(1), 1);
  // The joiner keeps x's old namespace alive; dockerd unplugs it, leaving it only lo.
  await ok(['restart', '-t', '0', 'srv2']);
  assert.equal(await portsSettle(1), 1, 'only the restarted x is on the bridge');
  assert.doesNotMatch(await ok(['exec', 'side2', 'ip', '-o', 'link']), /eth0/);
  // Same address and MAC as before: with the old veth still plugged in, the bridge would
  // deliver to the old namespace (connection refused).
  assert.equal(await ok(['run', '--rm', '--network', NET, 'busybox', 'wget', '-qO-', 'http://srv2/i']), 'hi\n');
  await ok(['rm', '-f', 'side2', 'srv2']);
});

test('container:<x> refuses what x\'s network decides, in dockerd\'s words (docker CLI and berth\'s), creating nothing; -p with host warns', { timeout: 90000 }, async () => {
  await ok(['run', '-d', '--name', 'own', '--network', NET, 'busybox', 'sleep', '300']);
  const count = async () => (await d.api('GET', '/containers/json?all=1')).json<unknown[]>().length;
  const before = await count();
  const daemon = (m: string) => `Error response from daemon: conflicting options: ${m}`;
  const refused: Array<[string[], string]> = [
    [['--hostname', 'x'], daemon('hostname and the network mode')],
    [['--link', 'own'], daemon("container type network can't be used with links. This would result in undefined behavior")],
    [['--dns', '10.0.0.53'], daemon('dns and the network mode')],
    [['--add-host', 'a:10.1.2.3'], daemon('custom host-to-IP mapping and the network mode')],
    [['-p', '8160:80'], daemon('port publishing and the container type network mode')],
    [['-P'], daemon('port publishing and the container type network mode')],
    [['--expose', '99'], daemon('port exposing and the container type network mode')],
    [['--mac-address', '92:d0:c6:0a:29:40'], daemon('mac-address and the network mode')],
    // Checked by the CLI before any request.
    [['--network-alias', 'a'], 'network-scoped aliases are only supported for user-defined networks'],
  ];
  for (const cli of ['docker', 'berth'] as const) {
    for (const [flags, message] of refused) {
      const r = await d[cli](['run', '--rm', '--network', 'container:own', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, `${cli} ${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n')[0]!.replace(/^(docker|berth): /, ''), message, `${cli} ${flags.join(' ')}`);
    }
  }
  // Through the API (dockerd's 400s), also what the CLI itself keeps from the daemon.
  const create = async (body: object) => {
    const r = await d.api('POST', '/containers/create', { Image: 'busybox', ...body });
    assert.equal(r.status, 400, r.body.toString());
    return r.json<{ message: string }>().message;
  };
  assert.equal(await create({ HostConfig: { NetworkMode: 'container:' } }), 'invalid network mode: invalid container format container:<name|id>');
  assert.equal(await create({ HostConfig: { NetworkMode: 'container:own' }, NetworkingConfig: { EndpointsConfig: { 'container:own': { Aliases: ['a'] } } } }),
    'invalid config for network container:own: network-scoped alias is supported only for containers in user defined networks');
  assert.equal(await create({ HostConfig: { NetworkMode: 'container:own' }, NetworkingConfig: { EndpointsConfig: { 'container:own': { IPAMConfig: { IPv4Address: '10.9.9.9' } } } } }),
    'invalid config for network container:own: user specified IP address is supported on user defined networks only');
  assert.equal(await count(), before, 'refused creates leave nothing');

  // dockerd lets --dns-search and --dns-option through: x's resolv.conf is what applies.
  const resolv = await ok(['exec', 'own', 'cat', '/etc/resolv.conf']);
  assert.equal(await ok(['run', '--rm', '--network', 'container:own', '--dns-search', 'example.com', '--dns-option', 'ndots:3', 'busybox', 'cat', '/etc/resolv.conf']), resolv);
  // The image's EXPOSE is no conflict, only the request's.
  await ok(['commit', '--change', 'EXPOSE 80', 'own', `exposed-${tag}`]);
  assert.equal(await ok(['run', '--rm', '--network', 'container:own', `exposed-${tag}`, 'echo', 'ran']), 'ran\n');
  await ok(['rmi', `exposed-${tag}`]);

  for (const cli of ['docker', 'berth'] as const) {
    const r = await d[cli](['run', '--rm', '--network', 'host', '-p', '8161:80', 'busybox', 'true']);
    assert.equal(r.code, 0, `${cli}: ${r.stderr}`);
    assert.match(r.stderr, /^WARNING: Published ports are discarded when using host network mode$/m, cli);
  }
  await ok(['rm', '-f', 'own']);
});

test('docker-compose 1.29 network_mode service:x resolves the project\'s services through x\'s DNS', { skip: !existsSync(COMPOSE_BIN) && 'docker-compose is not installed', timeout: 60000 }, async () => {
  const dir = await mkdtemp('/tmp/bt-cm-');
  const project = `cm${tag}`;
  const compose = (args: string[]) => run(COMPOSE_BIN, ['-p', project, '-f', join(dir, 'docker-compose.yml'), '--ansi', 'never', ...args], { DOCKER_HOST: d.host }, { timeout: 40000 });
  try {
    await writeFile(join(dir, 'docker-compose.yml'), [
      'version: "2.4"',
      'services:',
      '  app:',
      '    image: busybox',
      '    hostname: apphost',
      '    command: sh -c "echo from-db > /i; sleep 300"',
      '    stop_signal: SIGKILL',
      '  db:',
      '    image: busybox',
      '    command: sh -c "echo from-db > /i; exec httpd -f -p 80 -h /"',
      '  side:',
      '    image: busybox',
      '    network_mode: "service:app"',
      '    command: sleep 300',
      '    stop_signal: SIGKILL',
      '',
    ].join('\n'));
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    const r = await compose(['exec', '-T', 'side', 'sh', '-c', 'hostname; wget -qO- http://db/i']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.stdout, 'apphost\nfrom-db\n');
  } finally {
    await compose(['down', '-t', '0']);
    await rm(dir, { recursive: true, force: true });
  }
});
