import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlatformFlags, parseStorageOpts, parseWeightDevice, windowsOnlyFlagError } from './platform-flags.js';
import { csvRecord, parseGpus } from './gpu-opts.js';
import { buildCreateRequest, rewriteBoolFlags } from './opts.js';
import type { HostConfig } from './wire.js';

test('--gpus: docker GpuOpts values', () => {
  assert.deepEqual(parseGpus('all'), { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} });
  assert.deepEqual(parseGpus('2'), { Driver: '', Count: 2, DeviceIDs: null, Capabilities: [['gpu']], Options: {} });
  assert.deepEqual(parseGpus('"device=0,1",driver=nvidia,capabilities=compute'), { Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['compute', 'gpu']], Options: {} });
  assert.deepEqual(parseGpus('driver=x').Count, 1);
  assert.throws(() => parseGpus('lots'), /invalid argument "lots" for "--gpus" flag: invalid count \(lots\): value must be either "all" or an integer/);
  assert.throws(() => parseGpus('count=1,count=2'), /gpu request key 'count' can be specified only once/);
  assert.throws(() => parseGpus('color=red'), /unexpected key 'color' in 'color=red'/);
  assert.deepEqual(csvRecord('a,"b,c",""""'), ['a', 'b,c', '"']);
});

test('--blkio-weight-device and --storage-opt: docker validators', () => {
  assert.deepEqual(parseWeightDevice('/dev/sda:200'), { Path: '/dev/sda', Weight: 200 });
  assert.deepEqual(parseWeightDevice('/dev/sda:0'), { Path: '/dev/sda', Weight: 0 });
  assert.throws(() => parseWeightDevice('nocolon'), /bad format: nocolon$/);
  assert.throws(() => parseWeightDevice('sda:10'), /bad format for device path: sda:10$/);
  for (const v of ['/dev/sda:5', '/dev/sda:1001', '/dev/sda:x', '/dev/sda:-1']) assert.throws(() => parseWeightDevice(v), /invalid weight for device/, v);
  assert.deepEqual(parseStorageOpts(['size=1G', 'a=b=c']), { size: '1G', a: 'b=c' });
  assert.throws(() => parseStorageOpts(['size']), /^Error: invalid storage option$/);
});

test('platform flags land in HostConfig; Windows-only ones are refused in docker words', () => {
  const hc: HostConfig = {};
  applyPlatformFlags({ annotation: ['a=b', 'c', 'd=e=f'], cgroupParent: '/p', cpuRtPeriod: '1000000', cpuRtRuntime: '950', isolation: 'default', volumeDriver: 'local', gpus: ['all'], storageOpt: ['size=1G'] }, hc);
  assert.deepEqual(hc.Annotations, { a: 'b', c: '', 'd': 'e=f' });
  assert.equal(hc.CgroupParent, '/p');
  assert.equal(hc.CpuRealtimePeriod, 1000000);
  assert.equal(hc.CpuRealtimeRuntime, 950);
  assert.equal(hc.Isolation, 'default');
  assert.equal(hc.VolumeDriver, 'local');
  assert.equal(hc.DeviceRequests?.length, 1);
  assert.deepEqual(hc.StorageOpt, { size: '1G' });
  assert.equal(windowsOnlyFlagError({}), undefined);
  assert.equal(windowsOnlyFlagError({ ioMaxiops: '3' })?.message, '"--io-maxiops" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux');
  assert.throws(() => buildCreateRequest('busybox', [], { cpuCount: '2' }), /"--cpu-count" is only supported on a Docker daemon running on windows/);
  const call = buildCreateRequest('busybox', [], { useApiSocket: true, cgroupParent: 'x' });
  assert.equal(call.useApiSocket, true);
  assert.equal(call.body.HostConfig?.CgroupParent, 'x');
});

test('bool flags: --sig-proxy, --disable-content-trust and --use-api-socket take =true/=false', () => {
  assert.deepEqual(rewriteBoolFlags(['run', '--sig-proxy=true', '--disable-content-trust=false', '--use-api-socket=true', 'busybox']), ['run', '--sig-proxy', '--use-api-socket', 'busybox']);
});
