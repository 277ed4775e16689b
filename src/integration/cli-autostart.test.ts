/**
 * The CLI starting berthd on demand. The decision is unit-tested; the launch itself runs a
 * real berthd on a private socket (never the default one, which may be serving someone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pingOk, shouldAutostart, startDaemon } from '../cli/autostart.js';
import { REPO, removeDaemonNetworking } from '../testing/daemon.js';

const DEFAULT = 'unix:///run/berth/berth.sock';

test('autostart only for the default host, only when nothing listens, and can be turned off', () => {
  assert.equal(shouldAutostart(DEFAULT, DEFAULT, 'ENOENT', {}), true);
  assert.equal(shouldAutostart(DEFAULT, DEFAULT, 'ECONNREFUSED', {}), true, 'a stale socket file');
  assert.equal(shouldAutostart(DEFAULT, DEFAULT, 'EACCES', {}), false, 'not ours to replace');
  assert.equal(shouldAutostart('unix:///tmp/x.sock', DEFAULT, 'ENOENT', {}), false, 'a custom host is the user\'s daemon');
  assert.equal(shouldAutostart(DEFAULT, DEFAULT, 'ENOENT', { BERTH_NO_AUTOSTART: '1' }), false);
});

test('startDaemon launches berthd detached, waits for it to answer, and a second start finds it running', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp('/tmp/bta-');
  const sock = join(dir, 'run', 'berth.sock');
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  const args = [join(REPO, 'dist/daemon/main.js'), '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run'), '-H', `unix://${sock}`, '--config-file', join(dir, 'daemon.json')];
  let pid = 0;
  try {
    assert.equal(await pingOk(sock), false);
    const t0 = Date.now();
    pid = await startDaemon({ socketPath: sock, command: process.execPath, args, logFile: join(dir, 'berthd.log') });
    const ms = Date.now() - t0;
    assert.ok(pid > 0);
    assert.equal(await pingOk(sock), true);
    assert.equal(Number((await readFile(join(dir, 'run', 'berthd.pid'), 'utf8')).trim()), pid, 'the pid file names the daemon we started');
    process.stdout.write(`# autostart: berthd answering after ${ms} ms\n`);
    // A CLI that lost the race finds the daemon answering and starts nothing.
    assert.equal(await startDaemon({ socketPath: sock, command: process.execPath, args, logFile: join(dir, 'berthd2.log') }), 0);
    // A second berthd on the same exec root is refused by its pid file, never replacing the first.
    await rm(sock);
    await assert.rejects(startDaemon({ socketPath: sock, command: process.execPath, args, logFile: join(dir, 'berthd3.log') }), /berthd exited \(code \d+\).*already running/);
    assert.ok(alive(pid), 'the first daemon is untouched');
  } finally {
    if (pid > 0) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    }
    await removeDaemonNetworking(dir); // berthd keeps its bridge when it stops, as dockerd docker0
    await rm(dir, { recursive: true, force: true });
  }
});

test('startDaemon fails fast with berthd\'s last words when it cannot start', async () => {
  const dir = await mkdtemp('/tmp/bta-');
  try {
    const t0 = Date.now();
    await assert.rejects(
      startDaemon({ socketPath: join(dir, 'none.sock'), command: process.execPath, args: ['-e', 'console.error("berthd: bad config"); process.exit(3)'], logFile: join(dir, 'log') }),
      /Cannot start the berth daemon.*berthd exited \(code 3\): berthd: bad config/,
    );
    assert.ok(Date.now() - t0 < 5000, 'no waiting out the full timeout');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
