import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig, mergeEnv, validateHostConfig } from './create-config.js';
import type { ImageConfigFile } from '../oci/image-spec.js';

const image: ImageConfigFile = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Env: ['PATH=/bin', 'A=image'], Cmd: ['sh'], WorkingDir: '/srv', Labels: { from: 'image' }, Volumes: { '/data': {} } },
};

test('request fields win, the image fills the rest', () => {
  const m = mergeConfig({ Image: 'x', Env: ['A=req', 'B=2'], Labels: { mine: '1' } }, image);
  assert.deepEqual(m.config.Env, ['PATH=/bin', 'A=req', 'B=2']);
  assert.deepEqual(m.config.Cmd, ['sh']);
  assert.equal(m.config.WorkingDir, '/srv');
  assert.deepEqual(m.config.Labels, { from: 'image', mine: '1' });
  assert.equal(m.path, 'sh');
  assert.deepEqual(m.args, []);
});

test('an entrypoint given at create drops the image Cmd, as docker does', () => {
  const m = mergeConfig({ Image: 'x', Entrypoint: ['echo'] }, image);
  assert.equal(m.path, 'echo');
  assert.deepEqual(m.args, []);
  const m2 = mergeConfig({ Image: 'x', Entrypoint: ['echo'], Cmd: ['hi'] }, image);
  assert.deepEqual([m2.path, ...m2.args], ['echo', 'hi']);
});

test('no command at all is a clear error', () => {
  assert.throws(() => mergeConfig({ Image: 'x' }, { ...image, config: {} }), /No command specified/);
});

test('a PATH is always present', () => {
  const m = mergeConfig({ Image: 'x', Cmd: ['true'] }, { ...image, config: {} });
  assert.match(m.config.Env![0]!, /^PATH=/);
});

test('bad resource values are refused before anything is created', () => {
  assert.throws(() => validateHostConfig({ Memory: 1024 }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => validateHostConfig({ NanoCpus: -1 }), /non-negative/);
  assert.throws(() => validateHostConfig({ KernelMemory: 1 << 30 }), /Kernel memory/);
  assert.throws(() => validateHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), /--restart and --rm/);
  assert.throws(() => validateHostConfig({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }), /soft limit/);
  assert.throws(() => validateHostConfig({ RestartPolicy: { Name: 'sometimes' as 'always' } }), /invalid restart policy/);
  assert.throws(() => mergeConfig({ Image: 'x', Cmd: ['x'], WorkingDir: 'rel' }, image), /absolute path/);
});

test('mergeEnv keeps order and lets later keys win', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C']), ['A=1', 'B=3', 'C']);
});

test('namespace modes: dockerd\'s values pass, anything else is refused at create', () => {
  for (const hc of [{ IpcMode: 'shareable' }, { IpcMode: 'none' }, { IpcMode: 'container:abc' }, { PidMode: 'host' }, { PidMode: 'container:abc' }, { UTSMode: 'host' }]) {
    assert.doesNotThrow(() => validateHostConfig(hc), JSON.stringify(hc));
  }
  assert.throws(() => validateHostConfig({ IpcMode: 'foo' }), /invalid IPC mode: foo/);
  assert.throws(() => validateHostConfig({ IpcMode: 'container:' }), /invalid IPC mode/);
  assert.throws(() => validateHostConfig({ PidMode: 'private' }), /invalid PID mode: private/);
  assert.throws(() => validateHostConfig({ UTSMode: 'container:x' }), /invalid UTS mode/);
});
