import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser, resolveGroupAdd } from './user.js';
import { resolveInRoot, readFileInRoot } from './in-root.js';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
nohome:x:1001:1001::/:/bin/sh
`;
const GROUP = `root:x:0:
daemon:x:1:
wheel:x:10:app,other
app:x:1000:
audio:x:29:app
staff:x:50:
`;

async function rootfs(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-user-'));
  await mkdir(join(dir, 'etc'));
  for (const [p, c] of Object.entries(files)) await writeFile(join(dir, p), c);
  return dir;
}

test('docker user spec forms', async (t) => {
  const r = await rootfs({ 'etc/passwd': PASSWD, 'etc/group': GROUP });
  t.after(() => rm(r, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(r, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(await resolveUser(r, 'app'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
  assert.deepEqual(await resolveUser(r, '1000'), { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' });
  // Explicit group: no supplementary groups (docker's rule).
  assert.deepEqual(await resolveUser(r, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(await resolveUser(r, '1000:50'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(await resolveUser(r, '4242:wheel'), { uid: 4242, gid: 10, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(r, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(r, 'app', ['staff', '777', 'wheel']), { uid: 1000, gid: 1000, additionalGids: [10, 29, 50, 777], home: '/home/app' });
  await assert.rejects(resolveUser(r, 'nobody'), { code: 'INVALID_ARGUMENT', message: 'unable to find user nobody: no matching entries in passwd file' });
  await assert.rejects(resolveUser(r, 'app:nogroup'), { code: 'INVALID_ARGUMENT', message: 'unable to find group nogroup: no matching entries in group file' });
  await assert.rejects(resolveGroupAdd(r, ['nogroup']), { code: 'INVALID_ARGUMENT' });
  assert.deepEqual(await resolveGroupAdd(r, ['audio', '5']), [29, 5]);
});

test('distroless: no /etc/passwd works for numeric users only', async (t) => {
  const r = await mkdtemp(join(tmpdir(), 'berth-user-'));
  t.after(() => rm(r, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(r, '65532:65532'), { uid: 65532, gid: 65532, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(r, ''), { uid: 0, gid: 0, additionalGids: [], home: '/' });
  await assert.rejects(resolveUser(r, 'nonroot'), /unable to find user nonroot: no matching entries in passwd file/);
});

test('CVE-2024-9676: a symlinked /etc/passwd never reads the host', async (t) => {
  const host = await mkdtemp(join(tmpdir(), 'berth-host-'));
  const r = await mkdtemp(join(tmpdir(), 'berth-user-'));
  t.after(() => Promise.all([rm(r, { recursive: true, force: true }), rm(host, { recursive: true, force: true })]));
  // A host secret that would make "evil" resolvable if we followed the link out.
  await writeFile(join(host, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  await mkdir(join(r, 'etc'));
  await symlink(join(host, 'passwd'), join(r, 'etc', 'passwd'));
  await assert.rejects(resolveUser(r, 'evil'), /unable to find user evil/);
  // Relative escapes are clamped too.
  await rm(join(r, 'etc', 'passwd'));
  await symlink('../../../../../../..' + join(host, 'passwd'), join(r, 'etc', 'passwd'));
  await assert.rejects(resolveUser(r, 'evil'), /unable to find user evil/);
  // A symlinked /etc directory resolves inside the root.
  await rm(join(r, 'etc'), { recursive: true });
  await mkdir(join(r, 'real-etc'));
  await writeFile(join(r, 'real-etc', 'passwd'), 'inside:x:7:7::/in:/bin/sh\n');
  await symlink('/real-etc', join(r, 'etc'));
  assert.equal((await resolveUser(r, 'inside')).uid, 7);
  assert.equal(await resolveInRoot(r, '/etc/passwd'), join(r, 'real-etc', 'passwd'));
  assert.equal(await resolveInRoot(r, '/../../etc/../etc/passwd'), join(r, 'real-etc', 'passwd'));
});

test('special files and huge files are refused', async (t) => {
  const r = await rootfs({});
  t.after(() => rm(r, { recursive: true, force: true }));
  execFileSync('mkfifo', [join(r, 'etc', 'passwd')]);
  await assert.rejects(resolveUser(r, 'x'), /not a regular file/);
  await writeFile(join(r, 'etc', 'big'), Buffer.alloc(2048, 0x61));
  await assert.rejects(readFileInRoot(r, '/etc/big', 1024), /larger than 1024 bytes/);
  assert.equal((await readFileInRoot(r, '/etc/big', 4096)).length, 2048);
});
