import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSysctls } from './spec.js';
import type { ContainerRecord } from './types.js';

const info = { netSysctls: ['net.ipv4.ip_unprivileged_port_start'], ipv6: true };
type Rec = Parameters<typeof containerSysctls>[0];
const rec = (hc: ContainerRecord['HostConfig'], ifNames: string[] = [], config: ContainerRecord['Config'] = {}): Rec => ({
  HostConfig: hc, Config: config, NetworkingConfig: {},
  Network: ifNames.length ? { Networks: Object.fromEntries(ifNames.map((n) => [n, { ifName: n }])) } as unknown as ContainerRecord['Network'] : undefined,
});
const off = (...ifs: string[]) => Object.fromEntries(['default', ...ifs].map((i) => [`net.ipv6.conf.${i}.disable_ipv6`, '1']));

test('containerSysctls: IPv6 off the interfaces of a container on networks (wired ones named, the rest by default), as dockerd 27+', () => {
  const port = { 'net.ipv4.ip_unprivileged_port_start': '0' };
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'default' }, ['eth0', 'eth1']), info), { ...port, ...off('eth0', 'eth1') });
  // A start prepared ahead: nothing wired yet.
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'mynet' }), info), { ...port, ...off() });
  // No interfaces of its own (none), the host's or another container's, no IPv6 in the kernel.
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'none' }), info), port);
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'bridge' }, [], { NetworkDisabled: true }), info), port);
  assert.equal(containerSysctls(rec({ NetworkMode: 'host' }), info), undefined);
  assert.equal(containerSysctls(rec({ NetworkMode: 'container:x' }), info), undefined);
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'bridge' }, ['eth0']), { ...info, ipv6: false }), port);
  // The container's own disable_ipv6 decides alone (runc's order is not set; `all` reaches every interface).
  for (const own of [{ 'net.ipv6.conf.all.disable_ipv6': '0' }, { 'net.ipv6.conf.eth0.disable_ipv6': '0' }] as Array<Record<string, string>>) {
    assert.deepEqual(containerSysctls(rec({ NetworkMode: 'bridge', Sysctls: own }, ['eth0']), info), { ...port, ...own });
  }
  assert.deepEqual(containerSysctls(rec({ NetworkMode: 'bridge', Sysctls: { 'net.ipv6.conf.all.forwarding': '1' } }, ['eth0']), info), { ...port, ...off('eth0'), 'net.ipv6.conf.all.forwarding': '1' });
});
