/**
 * Which network leads a multi-network container out: its default route and its
 * published ports go through the first network it joined that is not --internal,
 * and follow when that network is disconnected. Loopback and private berthd only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';

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
