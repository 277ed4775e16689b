import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDns, checkMountDestinations, checkNames, checkNoNul, checkSysctls, checkVolumePaths } from './create-checks.js';
import { mkdirAllInRoot } from './in-root.js';

test('create checks: NUL anywhere, line breaks in rendered files, sysctls, mounts over /', () => {
  assert.throws(() => checkNoNul({ HostConfig: { Binds: ['/a\0b:/x'] } }), /HostConfig\.Binds\[0\].*NUL/);
  assert.throws(() => checkNoNul({ Labels: { ['k\0']: 'v' } }), /key/);
  checkNoNul({ Env: ['A=1'], Labels: { a: 'b' }, n: 5, x: null });
  assert.throws(() => checkNames({ Hostname: 'a\nb' }), /line break/);
  assert.throws(() => checkNames({ Hostname: 'x'.repeat(65) }), /64 bytes/);
  checkNames({ Hostname: 'x'.repeat(64), Domainname: 'example.com' });
  assert.throws(() => checkDns({ Dns: ['1.1.1.1 6.6.6.6'] }), /not an IP/);
  assert.throws(() => checkDns({ ExtraHosts: ['a:1.2.3.4\nb'] }), /whitespace/);
  checkDns({ Dns: ['1.1.1.1', '::1'], DnsSearch: ['a.b'], ExtraHosts: ['gw:host-gateway', 'v6:[::1]', 'x=1.2.3.4'] });
  assert.throws(() => checkSysctls({ Sysctls: { 'kernel.panic': '1' } }), /not allowed/);
  assert.throws(() => checkSysctls({ NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } }), /--network host/);
  assert.throws(() => checkSysctls({ IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } }), /--ipc host/);
  checkSysctls({ Sysctls: { 'net.ipv4.conf.eth0.100.rp_filter': '1', 'net/ipv4/ping_group_range': '0 1', 'kernel.shm_rmid_forced': '1', 'fs.mqueue.msg_max': '10' } });
  assert.throws(() => checkMountDestinations({ Binds: ['/tmp:/.'] }), /destination can't be '\/'/);
  assert.throws(() => checkMountDestinations({ Tmpfs: { '//': '' } }), /destination can't be '\/'/);
  checkMountDestinations({ Binds: ['/tmp:/x', 'vol:/y:ro'], Tmpfs: { '/t': '' } });
});

test('create checks: relative mount destinations, wherever they come from', () => {
  const rel = (type: string, p: string) => `invalid mount config for type "${type}": invalid mount path: '${p}' mount path must be absolute`;
  assert.throws(() => checkMountDestinations({ Binds: ['/tmp:x'] }), { message: `invalid volume specification: '/tmp:x': ${rel('bind', 'x')}` });
  assert.throws(() => checkMountDestinations({ Binds: ['vol:../x:ro'] }), { message: `invalid volume specification: 'vol:../x:ro': ${rel('volume', '../x')}` });
  assert.throws(() => checkMountDestinations({ Mounts: [{ Type: 'tmpfs', Target: 'x' }] }), { message: rel('tmpfs', 'x') });
  assert.throws(() => checkMountDestinations({ Mounts: [{ Type: 'volume', Target: '' }] }), { message: 'invalid mount config for type "volume": field Target must not be empty' });
  assert.throws(() => checkMountDestinations({ Tmpfs: { 'run': '' } }), { message: rel('tmpfs', 'run') });
  assert.throws(() => checkVolumePaths({ '../../rel/x': {} }, false), { message: rel('volume', '../../rel/x') });
  assert.throws(() => checkVolumePaths({ 'data': {} }, true), { message: `${rel('volume', 'data')} (a VOLUME of the image; rebuild it with an absolute path)` });
  assert.throws(() => checkVolumePaths({ '/..': {} }, false), /destination can't be '\/'/);
  checkVolumePaths({ '/data': {}, '/a/../b': {} }, true);
  checkVolumePaths(undefined, false);
});

test('mkdirAllInRoot follows links inside the root only and refuses a file in the way', async () => {
  const tmp = await mkdtemp('/tmp/bt-mkroot-');
  try {
    const root = join(tmp, 'root');
    const host = join(tmp, 'host');
    await mkdir(root);
    await symlink(host, join(root, 'work'));
    await symlink('../../../..', join(root, 'up'));
    await writeFile(join(root, 'file'), '');
    await mkdirAllInRoot(root, '/work/a/../b');
    assert.ok((await stat(join(root, host, 'b'))).isDirectory());
    await assert.rejects(stat(host), /ENOENT/, 'nothing made on the host');
    await mkdirAllInRoot(root, '/up/up/escaped');
    assert.ok((await stat(join(root, 'escaped'))).isDirectory());
    await assert.rejects(mkdirAllInRoot(root, '/file/x'), /\/file is not a directory/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
