/**
 * `--network container:<x>` (compose's `network_mode: service:x`) end to end: the
 * joining container takes x's hostname and x's /etc/hosts, /etc/hostname and
 * /etc/resolv.conf (so it resolves names through x's embedded DNS), as with dockerd,
 * and keeps working when x restarts or goes.
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
