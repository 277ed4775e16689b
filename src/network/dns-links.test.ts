/** Links on a user-defined network: an alias that only the linking container's queries resolve. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup, findAsker, type NameView } from './dns-names.js';
import type { EndpointState, NetworkRecord, SandboxState } from './types.js';

const N: NetworkRecord = {
  Id: 'nnn', Name: 'app', Created: '', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.78.1.0/24', Gateway: '10.78.1.1' }] },
  Internal: false, Attachable: false, Ingress: false, Options: {}, Labels: {}, bridge: 'br-nnn',
};
const ep = (ip: string, names: string[], links?: string[]): EndpointState => ({
  NetworkID: N.Id, EndpointID: '', Gateway: '10.78.1.1', IPAddress: ip, IPPrefixLen: 24, MacAddress: '', Aliases: null, DNSNames: names,
  IPAMConfig: null, ifName: 'eth0', hostVeth: '', ...(links ? { Links: links } : {}),
});
const sbs: SandboxState[] = [
  { containerId: 'c1', containerName: 'db', SandboxKey: '', Networks: { app: ep('10.78.1.2', ['db']) }, Ports: {} },
  { containerId: 'c2', containerName: 'cache', SandboxKey: '', Networks: { app: ep('10.78.1.4', ['cache']) }, Ports: {} },
  { containerId: 'c3', containerName: 'web', SandboxKey: '', Networks: { app: ep('10.78.1.3', ['web'], ['db:database', 'cache', '/db:/web/cache']) }, Ports: {} },
  { containerId: 'c4', containerName: 'other', SandboxKey: '', Networks: { app: ep('10.78.1.5', ['other']) }, Ports: {} },
];
const view: NameView = { networks: () => [N], sandboxes: () => sbs };

test('a link alias resolves for the linking container only, and shadows a container name', () => {
  const web = findAsker(view, N.Id, '10.78.1.3')!;
  const other = findAsker(view, N.Id, '10.78.1.5')!;
  assert.deepEqual(lookup(view, web, 'database'), ['10.78.1.2']);
  assert.deepEqual(lookup(view, web, 'DATABASE.app.'), ['10.78.1.2']);
  assert.equal(lookup(view, other, 'database'), undefined);
  // "/db:/web/cache" (inspect's form) maps cache to db, ahead of the container named cache.
  assert.deepEqual(lookup(view, web, 'cache'), ['10.78.1.2']);
  assert.deepEqual(lookup(view, other, 'cache'), ['10.78.1.4']);
  assert.deepEqual(lookup(view, web, 'db'), ['10.78.1.2']);
});
