import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPidFile } from './pidfile.js';

test('pid file: a live berthd refuses a second one; a stale file whose pid now belongs to another process does not', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pid-'));
  const path = join(dir, 'berthd.pid');
  // Stand-ins: a process whose command line names berthd, and one that does not (a reused pid).
  const berthd = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 8000)', 'berthd']);
  const other = spawn('sleep', ['8']);
  try {
    writeFileSync(path, `${berthd.pid}\n`);
    await assert.rejects(claimPidFile(path), /berthd is already running with pid/);
    writeFileSync(path, `${other.pid}\n`);
    const release = await claimPidFile(path);
    assert.equal(readFileSync(path, 'utf8').trim(), String(process.pid));
    await release();
  } finally {
    berthd.kill();
    other.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
