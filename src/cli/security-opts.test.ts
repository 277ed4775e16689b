import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSecurityOpts } from './security-opts.js';

test('--security-opt: docker CLI rules (value needed but for no-new-privileges, = or :)', () => {
  const read = (p: string) => {
    if (p === '/p.json') return '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n';
    if (p === '/bad.json') return '{bad';
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  };
  const ok = (...l: string[]) => parseSecurityOpts(l, read);
  assert.deepEqual(ok('no-new-privileges', 'no-new-privileges=false', 'label=disable', 'apparmor:unconfined', 'seccomp=unconfined', 'seccomp=builtin', 'foo=bar'),
    { securityOpt: ['no-new-privileges', 'no-new-privileges=false', 'label=disable', 'apparmor:unconfined', 'seccomp=unconfined', 'seccomp=builtin', 'foo=bar'] });
  assert.deepEqual(ok('seccomp=/p.json'), { securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}'] });
  assert.deepEqual(ok('seccomp:/p.json').securityOpt, ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}']);
  assert.deepEqual(ok('systempaths=unconfined'), { securityOpt: [], maskedPaths: [], readonlyPaths: [] });
  for (const bad of ['bogus', 'label=', 'seccomp', 'apparmor:']) {
    assert.throws(() => ok(bad), (e: Error & { exitCode?: number }) => e.message === `Invalid --security-opt: ${JSON.stringify(bad)}` && e.exitCode === 125, bad);
  }
  assert.throws(() => ok('seccomp=/none.json'), /^Error: opening seccomp profile \(\/none.json\) failed: open \/none.json: no such file or directory$/);
  assert.throws(() => ok('seccomp=/bad.json'), /compacting json for seccomp profile \(\/bad.json\) failed/);
});
