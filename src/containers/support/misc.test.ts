import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetachKeyScanner, parseDetachKeys } from './detach-keys.js';
import { parseSignal, signalName } from './signals.js';
import { cgroupPids, cgroupRelativePath, parsePsOutput, top } from './top.js';
import { formatRFC3339Nano, parseDuration, parseRFC3339Nano, secondsToNanos } from './time.js';

test('parseDetachKeys', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), Buffer.from([16, 17]));
  assert.deepEqual(parseDetachKeys(''), Buffer.from([16, 17]));
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a,,'.replace(',,', ',b')), Buffer.from([0, 27, 28, 29, 30, 31, 97, 98]));
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), Buffer.from([1, 120]));
  assert.throws(() => parseDetachKeys('ctrl-1'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseDetachKeys('ctrl-A'), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => parseDetachKeys('ab'), { code: 'INVALID_ARGUMENT' });
});

test('DetachKeyScanner holds a prefix and releases it on mismatch', () => {
  const s = new DetachKeyScanner('ctrl-p,ctrl-q');
  assert.deepEqual(s.feed(Buffer.from('ab')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(s.feed(Buffer.from([16])), { forward: Buffer.alloc(0), detach: false });
  // ctrl-p then 'x': both released in order.
  assert.deepEqual(s.feed(Buffer.from('x')), { forward: Buffer.from([16, 120]), detach: false });
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p is released, the rest detaches.
  assert.deepEqual(s.feed(Buffer.from([16])).forward.length, 0);
  assert.deepEqual(s.feed(Buffer.from([16])), { forward: Buffer.from([16]), detach: false });
  assert.deepEqual(s.feed(Buffer.from([17, 65])), { forward: Buffer.alloc(0), detach: true });
  assert.equal(s.detached, true);
  // Whole sequence within one chunk, after data.
  const s2 = new DetachKeyScanner(Buffer.from([16, 17]));
  assert.deepEqual(s2.feed(Buffer.from([104, 105, 16, 17, 106])), { forward: Buffer.from('hi'), detach: true });
  // Three-key sequence with an overlapping prefix: a,a,b
  const s3 = new DetachKeyScanner('a,a,b');
  assert.deepEqual(s3.feed(Buffer.from('aaa')), { forward: Buffer.from('a'), detach: false });
  assert.deepEqual(s3.feed(Buffer.from('b')), { forward: Buffer.alloc(0), detach: true });
  const s4 = new DetachKeyScanner(undefined);
  s4.feed(Buffer.from([16]));
  assert.deepEqual(s4.flush(), Buffer.from([16]));
});

test('parseSignal', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('15'), 15);
  assert.equal(parseSignal('usr1'), 10);
  assert.equal(parseSignal('sigkill'), 9);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX'), 64);
  assert.equal(parseSignal('CLD'), 17);
  for (const bad of ['0', 'FOO', '', '65', 'SIG']) assert.throws(() => parseSignal(bad), { code: 'INVALID_ARGUMENT', message: `Invalid signal: ${bad}` });
  assert.equal(signalName(15), 'SIGTERM');
});

test('parsePsOutput keeps the container rows and thread rows after them', () => {
  const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 /sbin/init splash\nroot 42 1 0 10:00 ? 00:00:00 sleep 100\n- - - 0 - - 00:00:00 -\nroot 43 1 0 10:00 ? 00:00:00 other\n- - - 0 - - 00:00:00 -\n';
  const r = parsePsOutput(out, [42]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [['root', '42', '1', '0', '10:00', '?', '00:00:00', 'sleep 100'], ['-', '-', '-', '0', '-', '-', '00:00:00', '-']]);
  assert.throws(() => parsePsOutput('UID CMD\n', []), /PID field/);
});

test('top runs the host ps', async () => {
  const r = await top([process.pid]);
  assert.ok(r.Titles.includes('PID'));
  assert.equal(r.Processes.length, 1);
  assert.equal(r.Processes[0]![r.Titles.indexOf('PID')], String(process.pid));
  const r2 = await top([process.pid], 'aux');
  assert.equal(r2.Processes.length, 1);
  const r3 = await top([process.pid], '-o pid,comm');
  assert.deepEqual(r3.Titles, ['PID', 'COMMAND']);
  await assert.rejects(top([1], '-o pid=PID'), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(top([1], '', '/nonexistent/ps'), { code: 'UNAVAILABLE' });
});

test('cgroupPids on v1 and v2 layouts', async (t) => {
  const d = await mkdtemp(join(tmpdir(), 'berth-cg-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  await mkdir(join(d, 'v1', 'pids', 'berth', 'abc', 'child'), { recursive: true });
  await writeFile(join(d, 'v1', 'pids', 'berth', 'abc', 'cgroup.procs'), '10\n11\n');
  await writeFile(join(d, 'v1', 'pids', 'berth', 'abc', 'child', 'cgroup.procs'), '12\n');
  assert.deepEqual((await cgroupPids('/berth/abc', join(d, 'v1'))).sort(), [10, 11, 12]);
  await mkdir(join(d, 'v2', 'system.slice', 'berth-abc.scope'), { recursive: true });
  await writeFile(join(d, 'v2', 'cgroup.controllers'), 'pids\n');
  await writeFile(join(d, 'v2', 'system.slice', 'berth-abc.scope', 'cgroup.procs'), '7\n');
  assert.deepEqual(await cgroupPids('system.slice:berth:abc', join(d, 'v2')), [7]);
  assert.deepEqual(await cgroupPids('/gone', join(d, 'v2')), []);
  assert.equal(cgroupRelativePath('a-b.slice:p:n'), 'a.slice/a-b.slice/p-n.scope');
  // The real pids cgroup of this process exists on the machine.
  assert.ok((await cgroupPids('/')).length > 0);
});

test('time helpers', () => {
  assert.equal(parseRFC3339Nano('1970-01-01T00:00:01.5Z'), 1_500_000_000n);
  assert.equal(parseRFC3339Nano('2024-01-02T03:04:05.123456789+02:00'), parseRFC3339Nano('2024-01-02T01:04:05.123456789Z'));
  assert.equal(parseRFC3339Nano('garbage'), undefined);
  assert.equal(formatRFC3339Nano(1_500_000_000n), '1970-01-01T00:00:01.5Z');
  assert.equal(formatRFC3339Nano(0n), '1970-01-01T00:00:00Z');
  assert.equal(secondsToNanos(1.25), 1_250_000_000n);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2.5s'), 2500);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('-1m'), -60_000);
  assert.throws(() => parseDuration('5'), { code: 'INVALID_ARGUMENT' });
});
