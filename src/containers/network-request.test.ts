import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEndpointSettings, primaryMac } from './network-request.js';

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
