import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortKey, resolvePorts } from './ports.js';
import { HostPorts } from './host-ports.js';
import { bindable, freePorts } from '../testing/free-ports.js';

// Real sockets: what resolvePorts holds is bound on the host until released.
const held = new HostPorts();
after(() => held.releaseAll());

test('port keys: single, range, protocols, bad input', () => {
  assert.deepEqual(parsePortKey('80'), { from: 80, to: 80, proto: 'tcp' });
  assert.deepEqual(parsePortKey('53/udp'), { from: 53, to: 53, proto: 'udp' });
  assert.deepEqual(parsePortKey('8000-8010/tcp'), { from: 8000, to: 8010, proto: 'tcp' });
  assert.throws(() => parsePortKey('80/sctp'), /sctp is not supported/);
  for (const bad of ['0', '65536', '90-80', 'http', '80/icmp', '80-', '-80', '1-2-3', '']) assert.throws(() => parsePortKey(bad), /invalid port/);
});

const none = () => false;

test('bindings resolve to host ports: fixed, ranges, host ip, -P', async () => {
  const fixed = await resolvePorts({ portBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] }, publishAll: false, exposed: [] }, '10.0.0.2', none, held);
  assert.equal(fixed.nft.length, 1);
  assert.equal(fixed.nft[0]!.hostIp, '127.0.0.1');
  assert.ok(fixed.nft[0]!.hostPort >= 1024);
  assert.deepEqual(fixed.wire['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(fixed.nft[0]!.hostPort) }]);
  const range = await resolvePorts({ portBindings: { '7000-7002/udp': [{ HostPort: '47000-47002' }] }, publishAll: false, exposed: [] }, '10.0.0.2', none, held);
  assert.deepEqual(range.nft.map((p) => [p.port, p.hostPort, p.proto]), [[7000, 47000, 'udp'], [7001, 47001, 'udp'], [7002, 47002, 'udp']]);
  const all = await resolvePorts({ portBindings: {}, publishAll: true, exposed: ['443/tcp', '53/udp'] }, '10.0.0.2', none, held);
  assert.deepEqual(Object.keys(all.wire).sort(), ['443/tcp', '53/udp']);
  assert.equal(all.wire['443/tcp']![0]!.HostIp, '0.0.0.0');
});

test('bad and conflicting bindings are clear errors', async () => {
  const req = (b: Record<string, Array<{ HostIp?: string; HostPort?: string }>>) => ({ portBindings: b, publishAll: false, exposed: [] });
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '70000' }] }), '10.0.0.2', none, held), /ports are 1-65535/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: 'abc' }] }), '10.0.0.2', none, held), /invalid host port/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '1.2.3.999', HostPort: '8080' }] }), '10.0.0.2', none, held), /invalid IPv4 address/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] }), '10.0.0.2', none, held), /IPv6 publishing is not supported/);
  await assert.rejects(resolvePorts(req({ '80-81/tcp': [{ HostPort: '9000-9005' }] }), '10.0.0.2', none, held), /ranges differ in size/);
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '45678' }] }), '10.0.0.2', (p) => p.hostPort === 45678, held), /already allocated/);
  // Two bindings of one request may not claim the same host port either.
  await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: '45679' }], '81/tcp': [{ HostPort: '45679' }] }), '10.0.0.2', none, held), /already allocated/);
});

test('chosen host ports are held until released; ports held by anyone else are refused or skipped', async () => {
  const req = (b: Record<string, Array<{ HostIp?: string; HostPort?: string }>>) => ({ portBindings: b, publishAll: false, exposed: [] });
  const base = await freePorts(3);
  const mine = new HostPorts();
  const other = new HostPorts(); // another berthd
  try {
    const r = await resolvePorts(req({ '80/tcp': [{ HostPort: String(base) }] }), '10.0.0.2', none, mine);
    assert.equal(r.nft[0]!.hostPort, base);
    assert.equal(await bindable(base), false, 'held while published');
    mine.release(r.nft[0]!);
    assert.equal(await bindable(base), true, 'free once released');
    other.hold({ hostIp: '', proto: 'tcp', hostPort: base });
    await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: String(base) }] }), '10.0.0.2', none, mine), { message: `failed to bind host port 0.0.0.0:${base}/tcp: address already in use` });
    // A range skips it, every time.
    for (let i = 0; i < 5; i++) {
      const s = await resolvePorts(req({ '80/tcp': [{ HostPort: `${base}-${base + 1}` }] }), '10.0.0.2', none, mine);
      assert.equal(s.nft[0]!.hostPort, base + 1);
      mine.release(s.nft[0]!);
    }
    // Two bindings of one request on one host port; the first one held is let go again.
    await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostPort: String(base + 2) }], '81/tcp': [{ HostPort: String(base + 2) }] }), '10.0.0.2', none, mine), { message: `Bind for 0.0.0.0:${base + 2} failed: port is already allocated` });
    assert.equal(await bindable(base + 2), true);
    // An address the host lacks (TEST-NET-2).
    await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '198.51.100.77', HostPort: String(base + 2) }] }), '10.0.0.2', none, mine), { message: `failed to bind host port 198.51.100.77:${base + 2}/tcp: cannot assign requested address` });
    await assert.rejects(resolvePorts(req({ '80/tcp': [{ HostIp: '198.51.100.77' }] }), '10.0.0.2', none, mine), /cannot assign requested address/);
  } finally {
    mine.releaseAll();
    other.releaseAll();
  }
});
