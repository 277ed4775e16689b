import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateLocalOpts, volumeOciMount } from './local-opts.js';

test('local driver options: dockerd\'s keys and pairings, binds need an absolute device', () => {
  validateLocalOpts('v', {});
  validateLocalOpts('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  validateLocalOpts('v', { type: 'none', device: '/srv/data', o: 'bind' });
  validateLocalOpts('v', { type: 'nfs', device: ':/export', o: 'addr=10.0.0.1,ro' });
  assert.throws(() => validateLocalOpts('v', { foo: '1' }), /invalid option: "foo"/);
  assert.throws(() => validateLocalOpts('v', { type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOpts('v', { device: '/x' }), /missing required option: "type"/);
  assert.throws(() => validateLocalOpts('v', { o: 'bind' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOpts('v', { type: 'none', device: 'rel/dir', o: 'bind' }), /absolute host path/);
  assert.throws(() => validateLocalOpts('v', { type: 'none', device: '/x' }), /without o=bind/);
});

test('the mount a container gets: plain _data, a bind of the device, or the filesystem itself', () => {
  const mp = '/var/lib/berth/volumes/v/_data';
  assert.deepEqual(volumeOciMount({ Mountpoint: mp, Options: {} }, '/d', false),
    { destination: '/d', type: 'bind', source: mp, options: ['rbind', 'rprivate', 'rw', 'nosuid', 'nodev'] });
  assert.deepEqual(volumeOciMount({ Mountpoint: mp, Options: { type: 'none', device: '/srv/data', o: 'bind' } }, '/d', true),
    { destination: '/d', type: 'bind', source: '/srv/data', options: ['bind', 'rprivate', 'ro'] });
  assert.deepEqual(volumeOciMount({ Mountpoint: mp, Options: { type: 'none', device: '/srv/data', o: 'rbind,ro,noexec' } }, '/d', false),
    { destination: '/d', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'ro', 'noexec'] });
  assert.deepEqual(volumeOciMount({ Mountpoint: mp, Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=5m,uid=1000' } }, '/t', false),
    { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=5m', 'uid=1000', 'rw'] });
});
