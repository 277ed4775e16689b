import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortKey, resolvePorts } from './ports.js';

test('port keys: single, range, protocols, bad input', () => {
  assert.deepEqual(parsePortKey('80'), { from: 80, to: 80, proto: 'tcp' });
  assert.deepEqual(parsePortKey('53/udp'), { from: 53, to: 53, proto: 'udp' });
  assert.deepEqual(parsePortKey('8000-8010/tcp'), { from: 8000, to: 8010, proto: 'tcp' });
  assert.throws(() => parsePortKey('80/sctp'), /sctp is not supported/);
  for (const bad of ['0', '65536', '90-80', 'http', '80/icmp', '80-', '-80', '1-2-3', '']) assert.throws(() => parsePortKey(bad), /invalid port/);
});

const none = () => false;

test('bindings resolve to host ports: fixed, ranges, host ip, -P', async () => {
  const fixed = await resolvePorts({ portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] }, publishAll: false, exposed: [] }, '10.0.0.2', none);
  assert.equal(fixed.nft.length, 1);
  assert.equal(fixed.nft[0]!.hostIp, '127.0.0.1');
  assert.ok(fixed.nft[0]!.hostPort >= 1024);
  assert.deepEqual(fixed.wire['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(fixed.nft[0]!.hostPort) }]);
  const range = await resolvePorts({ portBindings: { '7000-7002/udp': [{ HostPort: '47000-47002' }] }, publishAll: false, exposed: [] }, '10.0.0.2', none);
  assert.deepEqual(range.nft.map((p) => [p.port, p.hostPort, p.proto]), [[7000, 47000, 'udp'], [7001, 47001, 'udp'], [7002, 47002, 'udp']]);
  const all = await resolvePorts({ portBindings: {}, publishAll: true, exposed: ['443/tcp', '53/udp'] }, '10.0.0.2', none);
  assert.deepEqual(Object.keys(all.wire).sort(), ['443/tcp', '53/udp']);
  assert.equal(all.wire['443/tcp']![0]!.HostIp, '0.0.0.0');
});

test('bad and conflicting bindings are clear errors', async () => {
  const req = (b: Record<string, Array<{ HostIp?: string; HostPort?: string }>>) => ({ portBindings: b, publishAll: false, exposed: [] });
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '70000' }] }), '10.0.0.2', none), /ports are 1-65535/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: 'abc' }] }), '10.0.0.2', none), /invalid host port/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '1.2.3.999', HostPort: '8080' }] }), '10.0.0.2', none), /invalid IPv4 address/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] }), '10.0.0.2', none), /IPv6 publishing is not supported/);
  await assert.rejects(resolvePorts(req({ '80-81/tcp': [{ HostPort: '9000-9005' }] }), '10.0.0.2', none), /ranges differ in size/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '45678' }] }), '10.0.0.2', (p) => p.hostPort === 45678), /already allocated/);
  // Two bindings of one request may not claim the same host port either.
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '45679' }], '81/tcp': [{ HostPort: '45679' }] }), '10.0.0.2', none), /already allocated/);
});
