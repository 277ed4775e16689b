import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortArg, portLines } from './port.js';

test('berth port prints docker\'s lines', () => {
  const ports = { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }, { HostIp: '::', HostPort: '32768' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }], '9000/tcp': null };
  assert.deepEqual(portLines(ports, 'c'), ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:32768', '80/tcp -> [::]:32768']);
  assert.deepEqual(portLines(ports, 'c', '80'), ['0.0.0.0:32768', '[::]:32768']);
  assert.deepEqual(portLines(ports, 'c', '53/udp'), ['127.0.0.1:5353']);
  assert.throws(() => portLines(ports, 'c', '9000'), /No public port '9000\/tcp' published for c/);
  assert.equal(parsePortArg('443'), '443/tcp');
  for (const bad of ['0', '70000', 'x', '80/icmp', '80/tcp/x']) assert.throws(() => parsePortArg(bad), /invalid port/);
});
