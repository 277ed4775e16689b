/**
 * The embedded DNS server's answers, without containers: a fake name table, a fake
 * upstream on a loopback address of our own (never a real resolver), and queries
 * handed straight to answer() or sent over UDP/TCP to a real listener.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import dnsPacket from 'dns-packet';
import { EmbeddedDns } from './dns-server.js';
import { HostResolvers, nameserversOf, askTcp } from './dns-upstream.js';
import { lookup, findAsker, reverseName, type NameView } from './dns-names.js';
import type { EndpointState, NetworkRecord, SandboxState } from './types.js';

function net(id: string, name: string, subnet: string, internal = false): NetworkRecord {
  return {
    Id: id, Name: name, Created: '', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: subnet, Gateway: subnet.replace(/0\/\d+$/, '1') }] },
    Internal: internal, Attachable: false, Ingress: false, Options: {}, Labels: {}, bridge: `br-${id}`,
  };
}
function ep(n: NetworkRecord, ip: string, names: string[] | null, aliases: string[] | null = null): EndpointState {
  return { NetworkID: n.Id, EndpointID: '', Gateway: n.IPAM.Config[0]!.Gateway, IPAddress: ip, IPPrefixLen: 24, MacAddress: '', Aliases: aliases, DNSNames: names, IPAMConfig: null, ifName: 'eth0', hostVeth: '' };
}

const A = net('aaa', 'front', '10.77.1.0/24');
const B = net('bbb', 'back', '10.77.2.0/24');
const I = net('iii', 'inner', '10.77.3.0/24', true);
const BR = { ...net('br', 'bridge', '10.77.9.0/24') };
const sbs: SandboxState[] = [
  { containerId: 'c1', containerName: 'web', SandboxKey: '', Networks: { front: ep(A, '10.77.1.2', ['web', 'www', 'c1c1c1c1c1c1'], ['www']) }, Ports: {} },
  { containerId: 'c2', containerName: 'db', SandboxKey: '', Networks: { back: ep(B, '10.77.2.2', ['db', 'c2c2c2c2c2c2']) }, Ports: {} },
  { containerId: 'c3', containerName: 'app', SandboxKey: '', Networks: { front: ep(A, '10.77.1.3', ['app']), back: ep(B, '10.77.2.3', ['app']) }, Ports: {}, dns: [] },
  { containerId: 'c4', containerName: 'lone', SandboxKey: '', Networks: { inner: ep(I, '10.77.3.2', ['lone']) }, Ports: {} },
  { containerId: 'c5', containerName: 'old', SandboxKey: '', Networks: { bridge: ep(BR, '10.77.9.2', null) }, Ports: {} },
];
const view: NameView = { networks: () => [A, B, I, BR], sandboxes: () => sbs };

const UP = `127.0.53.${10 + Math.floor(Math.random() * 200)}`;
let upstream: Socket;
let tmp: string;
let upstreamHits = 0;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bdns-'));
  upstream = createSocket('udp4');
  upstream.on('message', (m, r) => {
    upstreamHits++;
    const q = dnsPacket.decode(m);
    const name = q.questions![0]!.name;
    const answers = name === 'ext.example.test' ? [{ type: 'A' as const, name, ttl: 5, data: '192.0.2.7' }] : [];
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: name === 'ext.example.test' ? 0 : 3, questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((res) => upstream.bind(53, UP, res));
});
after(() => {
  upstream.close();
  rmSync(tmp, { recursive: true, force: true });
});

function dnsWith(nameservers: string[]): EmbeddedDns {
  const f = join(tmp, `resolv-${Math.random()}`);
  writeFileSync(f, nameservers.map((n) => `nameserver ${n}\n`).join(''));
  return new EmbeddedDns({ view, hostResolvers: new HostResolvers({ paths: { resolvConf: f, resolvedUpstream: join(tmp, 'none') } }), upstreamTimeoutMs: 500 });
}
const query = (name: string, type: 'A' | 'AAAA' | 'PTR' | 'MX' = 'A') => dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
async function ask(d: EmbeddedDns, netId: string, src: string, name: string, type: 'A' | 'AAAA' | 'PTR' | 'MX' = 'A') {
  const r = await d.answer(query(name, type), netId, src, false);
  assert.ok(r, 'an answer');
  const p = dnsPacket.decode(r!);
  return { rcode: (p as unknown as { rcode: string }).rcode, data: (p.answers ?? []).map((a) => String((a as { data?: unknown }).data)).sort(), id: p.id };
}

test('names, aliases, short ids and name.network on shared networks only', () => {
  const asker = findAsker(view, 'aaa', '10.77.1.3')!;
  assert.equal(asker.sandbox.containerName, 'app');
  assert.deepEqual(lookup(view, asker, 'WEB.'), ['10.77.1.2']);
  assert.deepEqual(lookup(view, asker, 'www'), ['10.77.1.2']);
  assert.deepEqual(lookup(view, asker, 'c1c1c1c1c1c1'), ['10.77.1.2']);
  assert.deepEqual(lookup(view, asker, 'db'), ['10.77.2.2'], 'app shares back with db');
  assert.deepEqual(lookup(view, asker, 'app.back'), ['10.77.2.3']);
  const web = findAsker(view, 'aaa', '10.77.1.2')!;
  assert.equal(lookup(view, web, 'db'), undefined, 'web does not share a network with db');
  assert.equal(findAsker(view, 'aaa', '10.77.1.99'), undefined);
  assert.equal(reverseName('2.1.77.10.in-addr.arpa'), '10.77.1.2');
  assert.equal(reverseName('300.1.77.10.in-addr.arpa'), undefined);
  assert.deepEqual(nameserversOf('# c\nnameserver 10.0.0.1\nnameserver bogus\n nameserver ::1\n'), ['10.0.0.1', '::1']);
});

test('answers: A, NODATA for AAAA, PTR, REFUSED for strangers, id kept', async () => {
  const d = dnsWith([UP]);
  assert.deepEqual(await ask(d, 'aaa', '10.77.1.3', 'web'), { rcode: 'NOERROR', data: ['10.77.1.2'], id: 4242 });
  assert.deepEqual((await ask(d, 'aaa', '10.77.1.3', 'web', 'AAAA')).data, []);
  assert.equal((await ask(d, 'aaa', '10.77.1.3', 'web', 'AAAA')).rcode, 'NOERROR');
  assert.deepEqual((await ask(d, 'aaa', '10.77.1.3', '2.1.77.10.in-addr.arpa', 'PTR')).data, ['web.front']);
  assert.equal((await ask(d, 'aaa', '10.77.1.3', '99.1.77.10.in-addr.arpa', 'PTR')).rcode, 'NXDOMAIN');
  assert.equal((await ask(d, 'aaa', '10.77.9.9', 'web')).rcode, 'REFUSED');
  assert.equal(await d.answer(Buffer.from([1, 2, 3]), 'aaa', '10.77.1.3', false), undefined, 'garbage is dropped');
});

test('forwarding: upstream answers pass through, NXDOMAIN stays NXDOMAIN, no upstream is SERVFAIL at once', async () => {
  const d = dnsWith([UP]);
  assert.deepEqual((await ask(d, 'aaa', '10.77.1.3', 'ext.example.test')).data, ['192.0.2.7']);
  assert.equal((await ask(d, 'aaa', '10.77.1.3', 'nope.example.test')).rcode, 'NXDOMAIN');
  const before = upstreamHits;
  assert.equal((await ask(d, 'iii', '10.77.3.2', 'ext.example.test')).rcode, 'SERVFAIL', 'internal networks do not forward');
  assert.equal(upstreamHits, before);
  const none = dnsWith([]);
  let t = Date.now();
  assert.equal((await ask(none, 'aaa', '10.77.1.3', 'ext.example.test')).rcode, 'SERVFAIL');
  assert.ok(Date.now() - t < 100);
  // A dead upstream on loopback fails on the ICMP error, not on the timeout.
  const dead = dnsWith(['127.0.53.254']);
  t = Date.now();
  assert.equal((await ask(dead, 'aaa', '10.77.1.3', 'ext.example.test')).rcode, 'SERVFAIL');
  assert.ok(Date.now() - t < 400, `dead upstream took ${Date.now() - t} ms`);
});

test('stub resolvers are skipped for the upstreams systemd-resolved lists', async () => {
  const main = join(tmp, 'stub');
  const up = join(tmp, 'upstream');
  writeFileSync(main, 'nameserver 127.0.0.53\noptions edns0\n');
  writeFileSync(up, 'nameserver 10.9.8.7\n');
  assert.deepEqual(await new HostResolvers({ paths: { resolvConf: main, resolvedUpstream: up } }).list(), ['10.9.8.7']);
  assert.deepEqual(await new HostResolvers({ paths: { resolvConf: main, resolvedUpstream: join(tmp, 'absent') } }).list(), ['127.0.0.53']);
});

test('a real listener over UDP and TCP, and truncation of big UDP answers', async () => {
  // Listen on an address of our own loopback, as if it were a network's gateway.
  const gw = `127.0.54.${10 + Math.floor(Math.random() * 200)}`;
  const many: SandboxState[] = Array.from({ length: 60 }, (_, i) => ({ containerId: `m${i}`, containerName: `m${i}`, SandboxKey: '', Networks: { g: ep(G, `10.78.0.${i + 2}`, [`m${i}`, 'pool']) }, Ports: {} }));
  const asker: SandboxState = { containerId: 'q', containerName: 'q', SandboxKey: '', Networks: { g: ep(G, gw, ['q']) }, Ports: {} };
  // A TCP connection to a loopback address comes from 127.0.0.1.
  const tcpAsker: SandboxState = { containerId: 't', containerName: 't', SandboxKey: '', Networks: { g: ep(G, '127.0.0.1', ['t']) }, Ports: {} };
  const d = new EmbeddedDns({ view: { networks: () => [G], sandboxes: () => [...many, asker, tcpAsker] }, hostResolvers: new HostResolvers({ paths: { resolvConf: join(tmp, 'x'), resolvedUpstream: join(tmp, 'y') } }) });
  G.IPAM.Config[0]!.Gateway = gw;
  await d.sync([G]);
  try {
    const c = createSocket('udp4');
    await new Promise<void>((r) => c.bind(0, gw, r));
    const reply = await new Promise<Buffer>((res) => { c.once('message', res); c.send(query('pool'), 53, gw); });
    c.close();
    const p = dnsPacket.decode(reply);
    assert.ok(p.flag_tc, 'truncated');
    assert.ok(reply.length <= 512);
    const full = await askTcp(gw, query('pool'), 2000);
    assert.equal(dnsPacket.decode(full!).answers!.length, 60);
  } finally {
    await d.close();
  }
});

const G = net('ggg', 'g', '10.78.0.0/24');
