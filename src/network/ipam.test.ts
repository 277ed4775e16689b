import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, choosePool, cidrText, contains, ipToInt, intToIp, macFor, overlaps, parseCidr } from './ipam.js';

test('addresses and CIDRs parse strictly', () => {
  assert.equal(intToIp(ipToInt('172.18.0.1')), '172.18.0.1');
  for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '', ' 1.2.3.4']) assert.throws(() => ipToInt(bad), /invalid IPv4 address/);
  assert.deepEqual(cidrText(parseCidr('10.1.0.0/16')), '10.1.0.0/16');
  assert.throws(() => parseCidr('10.1.0.1/16'), /host bits are set \(did you mean 10\.1\.0\.0\/16\?\)/);
  assert.throws(() => parseCidr('10.1.0.0/33'), /want an IPv4 CIDR/);
  assert.throws(() => parseCidr('10.1.0.0'), /want an IPv4 CIDR/);
  assert.throws(() => parseCidr('fd00::/64'), /want an IPv4 CIDR/);
});

test('containment and overlap', () => {
  const a = parseCidr('172.20.0.0/16');
  assert.ok(contains(a, ipToInt('172.20.255.254')));
  assert.ok(!contains(a, ipToInt('172.21.0.1')));
  assert.ok(overlaps(a, parseCidr('172.20.5.0/24')));
  assert.ok(overlaps(parseCidr('0.0.0.0/0'), a));
  assert.ok(!overlaps(a, parseCidr('172.21.0.0/16')));
});

test('pool choice skips host routes and other networks', () => {
  assert.equal(cidrText(choosePool([])!), '172.17.0.0/16');
  assert.equal(cidrText(choosePool([parseCidr('172.17.0.0/16'), parseCidr('172.18.3.0/24')])!), '172.19.0.0/16');
  // A wide host route covering all of 172.16/12 pushes to docker's 192.168 pools.
  assert.equal(cidrText(choosePool([parseCidr('172.16.0.0/12')])!), '192.168.0.0/20');
  assert.equal(choosePool([parseCidr('0.0.0.0/0')]), undefined);
});

test('allocation: lowest free, never network/gateway/broadcast, inside the ip-range', () => {
  const s = parseCidr('10.5.0.0/29');
  assert.equal(allocate(s, '10.5.0.1', new Set()), '10.5.0.2');
  assert.equal(allocate(s, '10.5.0.1', new Set(['10.5.0.2', '10.5.0.3'])), '10.5.0.4');
  const full = new Set(['10.5.0.2', '10.5.0.3', '10.5.0.4', '10.5.0.5', '10.5.0.6']);
  assert.equal(allocate(s, '10.5.0.1', full), undefined, '.7 is the broadcast address');
  assert.equal(allocate(parseCidr('10.6.0.0/16'), '10.6.0.1', new Set(), parseCidr('10.6.8.0/24')), '10.6.8.0');
  assert.equal(macFor('172.18.0.2'), '02:42:ac:12:00:02');
});
