import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttachPrimer, ownProcsFile } from './attach-primer.js';

const HYBRID = '12:pids:/\n4:memory:/a/b\n1:name=systemd:/user.slice\n0::/user.slice\n';

test('attach primer: the procs file of a hierarchy the process is in', () => {
  assert.equal(ownProcsFile('/sys/fs/cgroup', HYBRID), '/sys/fs/cgroup/pids/cgroup.procs');
  assert.equal(ownProcsFile('/r', '3:memory:/a/b\n'), '/r/memory/a/b/cgroup.procs');
  // A path with colons stays whole.
  assert.equal(ownProcsFile('/r', '5:freezer:/x:y\n'), '/r/freezer/x:y/cgroup.procs');
  // Only the unified hierarchy: pure v2 (the root holds cgroup.controllers) or a hybrid's v2 tree.
  const v2 = mkdtempSync(join(tmpdir(), 'primer-v2-'));
  try {
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpu memory\n');
    assert.equal(ownProcsFile(v2, '0::/system.slice/berthd.service\n'), join(v2, 'system.slice/berthd.service/cgroup.procs'));
    rmSync(join(v2, 'cgroup.controllers'));
    assert.equal(ownProcsFile(v2, '0::/x\n'), join(v2, 'unified/x/cgroup.procs'));
  } finally {
    rmSync(v2, { recursive: true, force: true });
  }
  assert.equal(ownProcsFile('/r', ''), undefined);
  assert.equal(ownProcsFile('/r', '1:name=systemd:/\n'), undefined);
});

test('attach primer: one write at a time, of the given pid, to the own cgroup', async () => {
  const root = mkdtempSync(join(tmpdir(), 'primer-'));
  try {
    mkdirSync(join(root, 'pids', 'grp'), { recursive: true });
    const procs = join(root, 'pids', 'grp', 'cgroup.procs');
    writeFileSync(procs, '');
    let disabled = 0;
    const p = new AttachPrimer({ root, selfCgroup: () => '8:pids:/grp\n', pid: 4242, onDisabled: () => disabled++ });
    p.prime();
    assert.equal(p.inFlight, true);
    assert.equal(p.file, procs);
    p.prime(); // coalesced into the write under way
    while (p.inFlight) await new Promise((r) => setTimeout(r, 1));
    assert.equal(readFileSync(procs, 'utf8'), '4242');
    assert.equal(disabled, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('attach primer: a failing write turns priming off once, quietly', async () => {
  const root = mkdtempSync(join(tmpdir(), 'primer-gone-'));
  try {
    const errors: unknown[] = [];
    const p = new AttachPrimer({ root, selfCgroup: () => '8:pids:/missing\n', onDisabled: (e) => errors.push(e) });
    p.prime();
    while (p.inFlight) await new Promise((r) => setTimeout(r, 1));
    assert.equal(p.file, undefined);
    assert.equal(errors.length, 1);
    p.prime(); // off: no write, no second report
    assert.equal(p.inFlight, false);
    assert.equal(errors.length, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('attach primer: on this host the write succeeds and moves nothing', async () => {
  const before = readFileSync('/proc/self/cgroup', 'utf8');
  const errors: unknown[] = [];
  const p = new AttachPrimer({ onDisabled: (e) => errors.push(e) });
  p.prime();
  assert.ok(p.file, 'a cgroup.procs file of this process was found');
  while (p.inFlight) await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(errors, []);
  assert.ok(p.file, 'priming stays on after the write');
  assert.equal(readFileSync('/proc/self/cgroup', 'utf8'), before);
});
