/**
 * Which network leads a multi-network container out: its default route and its
 * published ports go through the first network it joined that is not --internal,
 * and follow when that network is disconnected. Loopback and private berthd only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { TestDaemon } from '../testing/daemon.js';
import { httpGet } from '../testing/http-get.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const INT = `gi-${tag}`;
const EXT = `ge-${tag}`;

before(async () => {
  d = await TestDaemon.start();
  await ok(['network', 'create', '--internal', INT]);
  await ok(['network', 'create', EXT]);
});

after(async () => {
  const ids = (await d?.docker(['ps', '-aq']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => {});
  await d?.docker(['network', 'rm', INT, EXT]).catch(() => {});
  await d?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const gatewayOf = async (net: string) => (await ok(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', net])).trim();
const defaultRoute = (routes: string) => /^default via (\S+)/m.exec(routes)?.[1];
const ipOn = async (c: string, net: string) => (await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c])).trim();
const hostPort = async (c: string) => /:(\d+)$/m.exec(await ok(['port', c, '80/tcp']))?.[1];
const web = (name: string) => ['busybox', 'sh', '-c', `echo ${name} > /i; exec httpd -f -p 80 -h /`];

/** This berthd's published-port elements ("tcp . 8080 : 172.20.0.2 . 80"). */
function pubAny(): string {
  const t = createHash('sha256').update(`${d.dir}/run`).digest('hex').slice(0, 6);
  return execFileSync('nft', ['list', 'map', 'ip', `berth_${t}`, 'pub_any'], { encoding: 'utf8', timeout: 10000 });
}

/** A host port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The page a host port leads to (the container's httpd may take a moment to listen). */
async function page(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await httpGet(port, '/i');
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('the default route comes from the first network that is not --internal: at run, and on connect', async () => {
  const extGw = await gatewayOf(EXT);
  // Internal first: the route is the external network's.
  assert.equal(defaultRoute(await ok(['run', '--rm', '--network', INT, '--network', EXT, 'busybox', 'ip', 'route'])), extGw);
  await ok(['run', '-d', '--name', 'g2', '--network', INT, 'busybox', 'sleep', '300']);
  try {
    assert.equal(defaultRoute(await ok(['exec', 'g2', 'ip', 'route'])), undefined);
    await ok(['network', 'connect', EXT, 'g2']);
    assert.equal(defaultRoute(await ok(['exec', 'g2', 'ip', 'route'])), extGw);
    // Joining the default bridge afterwards keeps the route where it is.
    await ok(['network', 'connect', 'bridge', 'g2']);
    assert.equal(defaultRoute(await ok(['exec', 'g2', 'ip', 'route'])), extGw);
  } finally {
    await d.docker(['rm', '-f', 'g2']);
  }
});

test('ports are published towards the first network that is not --internal; with none, not at all (like dockerd), until one is connected', async () => {
  const port = await freePort();
  await ok(['run', '-d', '--name', 'p3', '--network', INT, '-p', `${port}:80`, ...web('p3')]);
  try {
    assert.equal(await ok(['port', 'p3']), '');
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'p3'])), { '80/tcp': null });
    assert.doesNotMatch(pubAny(), new RegExp(`\\. ${port} :`));
    await assert.rejects(httpGet(port, '/i'));
    // Not allocated meanwhile: another container may take the port; then connecting p3
    // to a way out fails on it in one line, and leaves p3 as it was.
    await ok(['run', '-d', '--name', 'holder', '-p', `${port}:80`, 'busybox', 'sleep', '300']);
    const clash = await d.docker(['network', 'connect', EXT, 'p3']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /already allocated/);
    assert.deepEqual(Object.keys(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'p3']))), [INT]);
    await ok(['rm', '-f', 'holder']);
    // A way out joined later brings the ports with it.
    await ok(['network', 'connect', EXT, 'p3']);
    assert.equal(await hostPort('p3'), String(port));
    assert.match(pubAny(), new RegExp(`tcp \\. ${port} : ${(await ipOn('p3', EXT)).replaceAll('.', '\\.')} \\. 80`));
    assert.equal(await page(port), 'p3\n');
    // Internal first at run: towards the external network's address.
    await ok(['run', '-d', '--name', 'p3b', '--network', INT, '--network', EXT, '-p', '80', ...web('p3b')]);
    const p = Number(await hostPort('p3b'));
    assert.match(pubAny(), new RegExp(`tcp \\. ${p} : ${(await ipOn('p3b', EXT)).replaceAll('.', '\\.')} \\. 80`));
    assert.equal(await page(p), 'p3b\n');
  } finally {
    await d.docker(['rm', '-f', 'p3', 'p3b', 'holder']);
  }
});

test('disconnecting the network a published port leads to moves the port and the default route to the next way out, or drops them: the freed address never receives them', async () => {
  const [extGw, bridgeGw] = [await gatewayOf(EXT), await gatewayOf('bridge')];
  await ok(['run', '-d', '--name', 'web1', '-p', '80', ...web('web1')]);
  try {
    const port = Number(await hostPort('web1'));
    assert.equal(await page(port), 'web1\n');
    await ok(['network', 'connect', EXT, 'web1']);
    await ok(['network', 'connect', INT, 'web1']);
    // Connecting others moved nothing.
    assert.equal(defaultRoute(await ok(['exec', 'web1', 'ip', 'route'])), bridgeGw);
    const freed = await ipOn('web1', 'bridge');
    await ok(['network', 'disconnect', 'bridge', 'web1']);
    assert.equal(await hostPort('web1'), String(port));
    assert.equal(defaultRoute(await ok(['exec', 'web1', 'ip', 'route'])), extGw);
    await ok(['run', '-d', '--name', 'victim1', ...web('victim1')]);
    assert.equal(await ipOn('victim1', 'bridge'), freed);
    assert.equal(await page(port), 'web1\n');
    // Only an --internal network left: no way out, so no port and no route.
    await ok(['network', 'disconnect', EXT, 'web1']);
    assert.equal(await ok(['port', 'web1']), '');
    assert.doesNotMatch(pubAny(), new RegExp(`\\. ${port} :`));
    await assert.rejects(httpGet(port, '/i'));
    assert.equal(defaultRoute(await ok(['exec', 'web1', 'ip', 'route'])), undefined);
    // A way out again: both come back.
    await ok(['network', 'connect', 'bridge', 'web1']);
    assert.equal(defaultRoute(await ok(['exec', 'web1', 'ip', 'route'])), bridgeGw);
    assert.equal(await page(Number(await hostPort('web1'))), 'web1\n');
  } finally {
    await d.docker(['rm', '-f', 'web1', 'victim1']);
  }
});

test('hairpin: a container reaches its own published port through its gateway, on the default bridge and on a user network', async () => {
  for (const [net, name] of [['bridge', 'h1'], [EXT, 'h2']] as const) {
    await ok(['run', '-d', '--name', name, '--network', net, '-p', '80', ...web(name)]);
    try {
      const port = Number(await hostPort(name));
      assert.equal(await page(port), `${name}\n`);
      const r = await d.docker(['exec', name, 'timeout', '5', 'wget', '-qO-', `http://${await gatewayOf(net)}:${port}/i`]);
      assert.equal(r.code, 0, `${net}: ${r.stderr}`);
      assert.equal(r.stdout, `${name}\n`);
    } finally {
      await d.docker(['rm', '-f', name]);
    }
  }
});
