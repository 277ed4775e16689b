import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnvVars, linkHostNames, parseLink, parseMac } from './link-env.js';

test('parseLink: name, name:alias, and inspect\'s normalised form', () => {
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('db:database'), { name: 'db', alias: 'database' });
  assert.deepEqual(parseLink('/db:/web/database'), { name: 'db', alias: 'database' });
  assert.throws(() => parseLink(''), /empty string specified for links/);
  assert.throws(() => parseLink('a:b:c'), /bad format for links: a:b:c/);
  assert.throws(() => parseLink(':x'), /bad format for links/);
  assert.throws(() => parseLink('db:x\n6.6.6.6 evil'), /whitespace is not allowed/);
});

test('linkEnvVars: ports sorted tcp first, ranges, name, env without HOME/PATH (dockerd\'s ToEnv)', () => {
  const env = linkEnvVars({
    linkName: '/web/my-db', ip: '172.17.0.3',
    env: ['PATH=/bin', 'HOME=/root', 'PASSWORD=s=cret', 'NOVALUE'],
    exposed: ['53/udp', '6380/tcp', '6379/tcp', '9000/tcp'],
  });
  assert.deepEqual(env, [
    'MY_DB_PORT=tcp://172.17.0.3:6379',
    'MY_DB_PORT_6379_TCP=tcp://172.17.0.3:6379', 'MY_DB_PORT_6379_TCP_ADDR=172.17.0.3', 'MY_DB_PORT_6379_TCP_PORT=6379', 'MY_DB_PORT_6379_TCP_PROTO=tcp',
    'MY_DB_PORT_6380_TCP=tcp://172.17.0.3:6380', 'MY_DB_PORT_6380_TCP_ADDR=172.17.0.3', 'MY_DB_PORT_6380_TCP_PORT=6380', 'MY_DB_PORT_6380_TCP_PROTO=tcp',
    // The run 6379-6380 ends at 9000: its range variables come after 9000's own (dockerd's order).
    'MY_DB_PORT_9000_TCP=tcp://172.17.0.3:9000', 'MY_DB_PORT_9000_TCP_ADDR=172.17.0.3', 'MY_DB_PORT_9000_TCP_PORT=9000', 'MY_DB_PORT_9000_TCP_PROTO=tcp',
    'MY_DB_PORT_6379_TCP_START=tcp://172.17.0.3:6379', 'MY_DB_PORT_6379_TCP_PORT_START=6379', 'MY_DB_PORT_6379_TCP_END=tcp://172.17.0.3:6380', 'MY_DB_PORT_6379_TCP_PORT_END=6380',
    'MY_DB_PORT_53_UDP=udp://172.17.0.3:53', 'MY_DB_PORT_53_UDP_ADDR=172.17.0.3', 'MY_DB_PORT_53_UDP_PORT=53', 'MY_DB_PORT_53_UDP_PROTO=udp',
    'MY_DB_NAME=/web/my-db',
    'MY_DB_ENV_PASSWORD=s=cret',
  ]);
});

test('linkEnvVars: a range ending at the last port; no ports at all', () => {
  const env = linkEnvVars({ linkName: '/a/b', ip: '10.0.0.2', env: [], exposed: ['81/tcp', '80/tcp'] });
  assert.deepEqual(env.filter((e) => /START|END/.test(e)), [
    'B_PORT_80_TCP_START=tcp://10.0.0.2:80', 'B_PORT_80_TCP_PORT_START=80', 'B_PORT_80_TCP_END=tcp://10.0.0.2:81', 'B_PORT_80_TCP_PORT_END=81',
  ]);
  assert.equal(env[0], 'B_PORT=tcp://10.0.0.2:80');
  assert.deepEqual(linkEnvVars({ linkName: '/a/b', ip: '10.0.0.2', env: [], exposed: [] }), ['B_NAME=/a/b']);
});

test('linkHostNames: the name is left out when it is the alias', () => {
  assert.equal(linkHostNames('db', 'abc123', 'db'), 'db abc123');
  assert.equal(linkHostNames('database', 'abc123', 'db'), 'database abc123 db');
});

test('parseMac: Go\'s 48-bit forms, normalised; anything else refused', () => {
  assert.equal(parseMac('92:D0:C6:0A:29:33'), '92:d0:c6:0a:29:33');
  assert.equal(parseMac('92-d0-c6-0a-29-33'), '92:d0:c6:0a:29:33');
  assert.equal(parseMac('92d0.c60a.2933'), '92:d0:c6:0a:29:33');
  for (const bad of ['zz:d0:c6:0a:29:33', '92:d0:c6:0a:29', '92:d0-c6:0a:29:33', '92:d0:c6:0a:29:33:44:55', '']) assert.equal(parseMac(bad), undefined, bad);
});
