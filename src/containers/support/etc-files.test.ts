import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostResolvConf, renderHostname, renderHosts, renderResolvConf, writeEtcFiles } from './etc-files.js';

test('hosts like docker', () => {
  const h = renderHosts({ hostname: 'abc123', domainname: 'example.com', extraHosts: ['db:10.0.0.5', 'v6=fe80::1', 'gw:host-gateway'], ip: '172.17.0.2', hostGatewayIp: '172.17.0.1' });
  assert.equal(h, [
    '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters', '10.0.0.5\tdb', 'fe80::1\tv6', '172.17.0.1\tgw', '172.17.0.2\tabc123.example.com abc123', '',
  ].join('\n'));
  assert.equal(renderHosts({ hostname: 'x', ipv6: false }), '127.0.0.1\tlocalhost\n');
  assert.throws(() => renderHosts({ hostname: 'x', extraHosts: ['bad:notanip'] }), { code: 'INVALID_ARGUMENT' });
  assert.equal(renderHostname('abc'), 'abc\n');
});

test('resolv.conf: host copy filtered, defaults, overrides', () => {
  const host = '# comment\nnameserver 127.0.0.1\nnameserver 10.1.1.1\nnameserver 2001:db8::1\nsearch corp.example\noptions edns0\n';
  assert.equal(renderResolvConf(host), '# comment\nnameserver 10.1.1.1\nsearch corp.example\noptions edns0\n');
  assert.equal(renderResolvConf(host, { ipv6: true }), '# comment\nnameserver 10.1.1.1\nnameserver 2001:db8::1\nsearch corp.example\noptions edns0\n');
  // Only loopback servers: docker falls back to public ones.
  assert.equal(renderResolvConf('nameserver 127.0.0.53\nsearch lan\n'), 'search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(renderResolvConf(host, { dns: ['1.1.1.1'] }), 'nameserver 1.1.1.1\nsearch corp.example\noptions edns0\n');
  assert.equal(renderResolvConf(host, { dnsSearch: ['.'], dnsOptions: ['ndots:2'] }), 'nameserver 10.1.1.1\noptions ndots:2\n');
  assert.equal(renderResolvConf(host, { embeddedDns: '127.0.0.11' }), '# ExtServers: [10.1.1.1]\nnameserver 127.0.0.11\nsearch corp.example\noptions edns0 ndots:0\n');
  assert.throws(() => renderResolvConf(host, { dns: ['nope'] }), { code: 'INVALID_ARGUMENT' });
});

test('systemd-resolved stub is replaced by the upstream file; writers', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'berth-etc-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  await writeFile(join(d, 'stub'), 'nameserver 127.0.0.53\noptions edns0 trust-ad\n');
  await writeFile(join(d, 'upstream'), 'nameserver 192.0.2.1\n');
  assert.equal(await readHostResolvConf(join(d, 'stub'), join(d, 'upstream')), 'nameserver 192.0.2.1\n');
  assert.equal(await readHostResolvConf(join(d, 'upstream'), join(d, 'missing')), 'nameserver 192.0.2.1\n');
  assert.equal(await readHostResolvConf(join(d, 'stub'), join(d, 'missing')), 'nameserver 127.0.0.53\noptions edns0 trust-ad\n');
  const p = await writeEtcFiles(d, { hosts: { hostname: 'h1', ip: '10.0.0.2' }, resolv: {}, hostResolvConf: 'nameserver 9.9.9.9\n' });
  assert.equal(await readFile(p.hostnamePath, 'utf8'), 'h1\n');
  assert.match(await readFile(p.hostsPath, 'utf8'), /10\.0\.0\.2\th1\n$/);
  assert.equal(await readFile(p.resolvConfPath, 'utf8'), 'nameserver 9.9.9.9\n');
  await writeEtcFiles(d, { hosts: { hostname: 'h2' }, resolv: {}, hostResolvConf: '' }, true);
  assert.equal(await readFile(p.hostnamePath, 'utf8'), 'h2\n');
});
