import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeDaemon, type FakeDaemon } from './fake-daemon.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
let fake: FakeDaemon;

const dirs: string[] = [];
const sockDir = () => { const d = mkdtempSync(join(tmpdir(), 'berth-cli-')); dirs.push(d); return d; };

before(async () => { fake = await startFakeDaemon(join(sockDir(), 'api.sock')); });
after(async () => {
  // First: close() waits for hijacked sockets the server no longer tracks.
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await fake.close();
});

function berth(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, BERTH_HOST: `unix://${fake.socketPath}` } });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    if (stdin !== undefined) p.stdin.end(stdin); else p.stdin.end();
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

test('run: create → attach → wait → start, output demuxed, exit 0', async () => {
  fake.log.length = 0;
  const r = await berth(['run', '--name', 'e1', 'busybox', 'echo', 'hello', '-n']);
  assert.equal(r.out, 'hello -n\n');
  assert.equal(r.err, 'to-stderr\n');
  assert.equal(r.code, 0);
  // No /_ping first: the create goes out at the CLI's version, and its answer's
  // Api-Version (1.41 here) is what the later calls use. The attach and the wait go out
  // together (either may arrive first); the start only once both are in place.
  const id = [...fake.containers.values()].find((c) => c.name === 'e1')!.id;
  assert.equal(fake.log.length, 4, fake.log.join('\n'));
  assert.equal(fake.log[0], 'POST /containers/create');
  assert.deepEqual(fake.log.slice(1, 3).sort(), [`POST /containers/${id}/attach (upgrade)`, `POST /containers/${id}/wait`]);
  assert.equal(fake.log[3], `POST /containers/${id}/start`);
});

test('run: exit code propagation and --rm waits for removal', async () => {
  const r = await berth(['run', '--rm', 'busybox', 'exit', '3']);
  assert.equal(r.code, 3);
  const body = fake.bodies.create as { HostConfig: { AutoRemove: boolean } };
  assert.equal(body.HostConfig.AutoRemove, true);
});

test('run -i: stdin piped, half-closed on EOF, output until exit', async () => {
  fake.log.length = 0;
  const r = await berth(['run', '-i', 'busybox', 'cat'], 'hi\n');
  assert.equal(r.out, 'hi\n');
  assert.equal(r.code, 0);
  assert.ok(fake.log.includes('stdin EOF'));
  const body = fake.bodies.create as { AttachStdin: boolean; OpenStdin: boolean; StdinOnce: boolean };
  assert.deepEqual([body.AttachStdin, body.OpenStdin, body.StdinOnce], [true, true, true]);
});

test('run -d prints the full id; start failure maps to 127', async () => {
  const r = await berth(['run', '-d', 'busybox', 'exit', '0']);
  assert.match(r.out, /^[0-9a-f]{64}\n$/);
  const bad = await berth(['run', 'busybox', '/nonexistent']);
  assert.equal(bad.code, 127);
  assert.match(bad.err, /^berth: Error response from daemon: failed to create task: exec: "\/nonexistent".*\n\nRun 'berth run --help' for more information\n$/);
});

test('run: missing image → pull attempt, its error reported, exit 125', async () => {
  const r = await berth(['run', 'missing']);
  assert.equal(r.code, 125);
  assert.equal(r.err, "Unable to find image 'missing:latest' locally\nberth: Error response from daemon: pull access denied for missing\n\nRun 'berth run --help' for more information\n");
});

test('ps -a table and -q; inspect --format; errors', async () => {
  const r = await berth(['ps', '-a']);
  assert.equal(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^CONTAINER ID   IMAGE     COMMAND +CREATED +STATUS +PORTS     NAMES$/);
  // The fake dates each container 5 s back at its create (first test): a loaded machine adds a few.
  assert.ok(lines.some((l) => /^[0-9a-f]{12} +busybox +"echo hello -n" +([5-9]|1\d) seconds ago +Exited \(0\) \d+ seconds? ago +e1$/.test(l)), r.out);
  const q = await berth(['container', 'ls', '-aq']);
  assert.ok(q.out.split('\n').includes('1aaaaaaaaaaa'));
  const i = await berth(['inspect', '--format', '{{.Name}} {{.State.Status}}', 'e1']);
  assert.equal(i.out, '/e1 exited\n');
  const miss = await berth(['inspect', 'nosuch']);
  assert.equal(miss.code, 1);
  assert.equal(miss.out, '[]\n');
  assert.equal(miss.err, 'Error: No such object: nosuch\n');
  const stop = await berth(['stop', 'nosuch']);
  assert.equal(stop.code, 1);
  assert.equal(stop.err, 'Error response from daemon: No such container: nosuch\n');
});

test('an older server: the first call at the CLI\'s version is refused (400), sent again at the negotiated one', async () => {
  const old = await startFakeDaemon(join(sockDir(), 'api.sock'), { maxApiVersion: '1.41' });
  try {
    const p = spawn(process.execPath, [MAIN, 'ps', '-a'], { env: { ...process.env, BERTH_HOST: `unix://${old.socketPath}` } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number>((r) => p.on('close', (c) => r(c ?? -1)));
    assert.equal(code, 0);
    assert.match(out, /^CONTAINER ID/);
    // The refused call is not in the log (it never reached a handler); the versions show it.
    assert.deepEqual(old.versions, ['1.47', '', '1.41']);
    assert.deepEqual(old.log, ['HEAD /_ping', 'GET /containers/json']);
  } finally {
    await old.close();
  }
});
