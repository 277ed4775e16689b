import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEndpointSettings, checkNetworkRequest, networkWarnings, primaryMac } from './network-request.js';
import type { ContainerManager } from './manager.js';

test('checkEndpointSettings: MAC, IPv6, link-local and link syntax in dockerd\'s words', () => {
  assert.doesNotThrow(() => checkEndpointSettings('n', { MacAddress: '92:d0:c6:0a:29:33', Links: ['a:b'], IPAMConfig: { IPv4Address: '10.1.2.3' } }));
  assert.doesNotThrow(() => checkEndpointSettings('n', null));
  assert.throws(() => checkEndpointSettings('n', { MacAddress: 'zz' }), { message: 'invalid config for network n: invalid MAC address zz' });
  assert.throws(() => checkEndpointSettings('n', { MacAddress: '01:00:5e:00:00:01' }), /multicast/);
  assert.throws(() => checkEndpointSettings('n', { IPAMConfig: { IPv6Address: 'nope' } }), { message: 'invalid config for network n: invalid IPv6 address: nope' });
  assert.throws(() => checkEndpointSettings('n', { IPAMConfig: { IPv6Address: '10.0.0.1' } }), /invalid IPv6 address/);
  assert.throws(() => checkEndpointSettings('n', { IPAMConfig: { IPv6Address: '2001:db8::1' } }), /IPv6 address 2001:db8::1 is not supported: berth networks are IPv4-only; remove --ip6$/);
  assert.throws(() => checkEndpointSettings('n', { IPAMConfig: { LinkLocalIPs: ['x'] } }), /invalid link-local IP address: x/);
  assert.throws(() => checkEndpointSettings('n', { IPAMConfig: { LinkLocalIPs: ['169.254.1.1'] } }), /not supported by berth; remove --link-local-ip$/);
  assert.throws(() => checkEndpointSettings('n', { Links: ['a:b:c'] }), /bad format for links: a:b:c/);
});

test('primaryMac: the endpoint of the --network wins, else API < 1.44\'s Config.MacAddress', () => {
  assert.equal(primaryMac({ NetworkMode: 'default' }, { EndpointsConfig: { default: { MacAddress: 'a' } } }, {}), 'a');
  assert.equal(primaryMac({ NetworkMode: 'bridge' }, { EndpointsConfig: { bridge: { MacAddress: 'b' } } }, { MacAddress: 'c' }), 'b');
  assert.equal(primaryMac({ NetworkMode: 'mynet' }, { EndpointsConfig: { other: { MacAddress: 'b' } } }, { MacAddress: 'c' }), 'c');
  assert.equal(primaryMac({ NetworkMode: 'mynet' }, {}, {}), undefined);
});

test('checkNetworkRequest: what --network container:<x> excludes, in dockerd\'s words and order; the image\'s EXPOSE is no conflict', () => {
  const m = {} as ContainerManager; // not reached: these checks need no other container
  const check = (hc: object, asked: object = {}, nc: object = {}, cfg: object = asked) => () => checkNetworkRequest(m, { NetworkMode: 'container:x', ...hc }, nc, cfg, asked);
  const conflict = (what: string) => ({ message: `conflicting options: ${what}` });
  assert.doesNotThrow(check({ DnsSearch: ['a'], DnsOptions: ['ndots:2'], PortBindings: {} }, { Hostname: '' }, {}, { ExposedPorts: { '80/tcp': {} } }));
  assert.throws(check({ NetworkMode: 'container:' }), { message: 'invalid network mode: invalid container format container:<name|id>' });
  assert.throws(check({ NetworkMode: 'container' }), /invalid container format/);
  assert.throws(check({ Links: ['a'], Dns: ['1.1.1.1'] }, { Hostname: 'h' }), conflict('hostname and the network mode'));
  assert.throws(check({ Links: ['a'], Dns: ['1.1.1.1'] }), conflict("container type network can't be used with links. This would result in undefined behavior"));
  assert.throws(check({ Dns: ['1.1.1.1'], ExtraHosts: ['a:1.2.3.4'] }), conflict('dns and the network mode'));
  assert.throws(check({ ExtraHosts: ['a:1.2.3.4'] }), conflict('custom host-to-IP mapping and the network mode'));
  assert.throws(check({ PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, { ExposedPorts: { '80/tcp': {} } }), conflict('port publishing and the container type network mode'));
  assert.throws(check({ PublishAllPorts: true }), conflict('port publishing and the container type network mode'));
  assert.throws(check({}, { ExposedPorts: { '99/tcp': {} } }), conflict('port exposing and the container type network mode'));
  assert.throws(check({}, {}, { EndpointsConfig: { 'container:x': { Aliases: ['a'] } } }), { message: 'invalid config for network container:x: network-scoped alias is supported only for containers in user defined networks' });
  assert.throws(check({ NetworkMode: 'bridge' }, {}, { EndpointsConfig: { bridge: { IPAMConfig: { IPv4Address: '172.17.0.9' } } } }), { message: 'invalid config for network bridge: user specified IP address is supported on user defined networks only' });
  assert.doesNotThrow(check({ NetworkMode: 'mynet' }, {}, { EndpointsConfig: { mynet: { Aliases: ['a'], IPAMConfig: { IPv4Address: '10.1.2.3' } } } }));
});

test('networkWarnings: -p with --network host, as dockerd', () => {
  assert.deepEqual(networkWarnings({ NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } }), ['Published ports are discarded when using host network mode']);
  assert.deepEqual(networkWarnings({ NetworkMode: 'host', PublishAllPorts: true }), []);
  assert.deepEqual(networkWarnings({ NetworkMode: 'bridge', PortBindings: { '80/tcp': [{ HostPort: '80' }] } }), []);
});
