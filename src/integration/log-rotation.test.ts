/**
 * json-file max-size/max-file against a private berthd: the log rotates into
 * ctr.log.1, .2 … and `docker logs` (whole, --tail, -f while it rotates) reads across
 * the files without a gap.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => { d = await TestDaemon.start(); });
after(async () => { await d?.stop(); });

const LINES = 150;

/** The numbers of `rotation line N` lines, in order. */
const numbers = (out: string) => out.split('\n').filter((l) => l.startsWith('rotation line ')).map((l) => Number(l.slice(14)));
const contiguousTo = (ns: number[], last: number) => ns.length > 0 && ns.every((n, i) => n === last - ns.length + 1 + i);

test('max-size 2k × max-file 3: the log rotates, older files are kept and read back in order', { timeout: 60_000 }, async () => {
  // ~60 bytes a record, ~40 records a second: a rotation about every second. The lines
  // begin once the test's follower is reading (it has seen "ready").
  const script = `echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; i=0; while [ $i -lt ${LINES} ]; do echo "rotation line $i"; i=$((i+1)); sleep 0.02; done`;
  const r = await d.docker(['run', '-d', '--name', 'rot3', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, r.stderr);
  try {
    // Followed from the start, through every rotation, until the container exits.
    const follower = spawn('docker', ['logs', '-f', 'rot3'], { env: { ...process.env, DOCKER_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (b: Buffer) => { followed += b.toString(); });
    const followerDone = new Promise((res) => follower.once('close', res));
    const timer = setTimeout(() => follower.kill(), 40_000);
    for (let i = 0; i < 400 && !followed.includes('ready'); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(followed.includes('ready'), 'the follower reads the log');
    assert.equal((await d.docker(['exec', 'rot3', 'touch', '/tmp/go'])).code, 0);
    assert.equal((await d.docker(['wait', 'rot3'], { timeout: 40_000 })).stdout.trim(), '0');
    await followerDone;
    clearTimeout(timer);
    assert.deepEqual(numbers(followed), Array.from({ length: LINES }, (_, i) => i), 'logs -f saw every line once, in order, across the rotations');

    const logPath = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'rot3'])).stdout.trim();
    const files = (await readdir(dirname(logPath))).filter((f) => f.startsWith('ctr.log')).sort();
    assert.deepEqual(files, ['ctr.log', 'ctr.log.1', 'ctr.log.2'], 'max-file 3: the current file and two rotated ones');

    const all = numbers((await d.docker(['logs', 'rot3'])).stdout);
    // Three files of about 2k each: far more than one file (~30 records) holds, and no gap.
    assert.ok(all.length >= 60, `docker logs shows ${all.length} lines`);
    assert.ok(contiguousTo(all, LINES - 1), `the kept lines are the last ones, without a gap: ${all.join(',')}`);
    assert.deepEqual(numbers((await d.docker(['logs', '--tail', '50', 'rot3'])).stdout), Array.from({ length: 50 }, (_, i) => LINES - 50 + i));
  } finally {
    await d.docker(['rm', '-f', 'rot3']);
  }
});
