/**
 * The berth CLI against a real private berthd: the flows users type, with docker's CLI
 * against the same daemon as the reference for output shape and exit codes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/btc-');
});
after(async () => {
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const b = (...args: string[]) => d.berth(args);
/** One docker-style error line (plus docker's "See '…--help'." / "Run '… --help'" hint at most), never a stack. */
function oneLiner(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at |TypeError|ReferenceError|node:internal/, `no stack trace: ${stderr}`);
  const lines = stderr.trim().split('\n').filter((l) => l !== '' && !l.startsWith('See ') && !l.startsWith('Usage:  ') && !/^Run '.* --help' for more information$/.test(l) && !l.startsWith('Unable to find image'));
  assert.equal(lines.length, 1, `one line: ${stderr}`);
}

test('run exit codes: 0, the container\'s, 125 bad flag/daemon error, 126 not executable, 127 not found', async () => {
  const ok = await b('run', '--rm', 'busybox', 'echo', 'hello');
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'hello\n', '']);
  assert.equal((await b('run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code, 3);
  const nf = await b('run', '--rm', 'busybox', 'nosuchcmd');
  assert.equal(nf.code, 127, nf.stderr);
  assert.match(nf.stderr, /^berth: Error response from daemon: .*nosuchcmd.*executable file not found.*\n\nRun 'berth run --help' for more information\n$/);
  oneLiner(nf.stderr);
  const ne = await b('run', '--rm', 'busybox', '/etc/passwd');
  assert.equal(ne.code, 126, ne.stderr);
  oneLiner(ne.stderr);
  const mem = await b('run', '--memory', '10zz', 'busybox');
  assert.equal(mem.code, 125);
  assert.match(mem.stderr, /^invalid argument "10zz" for "-m, --memory" flag: /);
  oneLiner(mem.stderr);
  const img = await b('run', 'nosuchimage');
  assert.equal(img.code, 125);
  // No registry is reachable here: the pull fails with the daemon's reason, in one line.
  assert.match(img.stderr, /^Unable to find image 'nosuchimage:latest' locally\nberth: Error response from daemon: .*(registry|pull)/);
  oneLiner(img.stderr);
  const flag = await b('run', '--no-such-flag', 'busybox');
  assert.equal(flag.code, 125);
  // docker 28's shape, word for word with berth in docker's place.
  const dflag = await d.docker(['run', '--no-such-flag', 'busybox']);
  assert.equal(flag.stderr, dflag.stderr.replaceAll('docker', 'berth'));
  assert.match(flag.stderr, /^unknown flag: --no-such-flag\n\nUsage: {2}berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nRun 'berth run --help' for more information\n$/);
  const rmx = await b('rm', 'nosuch');
  assert.deepEqual([rmx.code, rmx.stderr], [1, 'Error response from daemon: No such container: nosuch\n']);
  // Same codes from docker's CLI against the same daemon.
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'nosuchcmd'])).code, 127);
  assert.equal((await d.docker(['rm', 'nosuch'])).code, 1);
});

test('run flags reach the container: -e -w -u -h --entrypoint -l -v --mount --tmpfs --read-only --init caps nnp privileged', async () => {
  const host = join(tmp, 'bind');
  await rm(host, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(host)).then(() => writeFile(join(host, 'f'), 'bound\n'));
  const r = await b('run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', '-h', 'myhost', '-l', 'k=v',
    '-v', `${host}:/b`, '--mount', `type=bind,source=${host},target=/ro,readonly`, '--mount', 'type=volume,source=clivol,target=/vol',
    '--tmpfs', '/scratch', '--read-only', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--security-opt', 'no-new-privileges',
    'busybox', 'sh', '-c',
    'echo $FOO; pwd; id -u; id -g; hostname; cat /b/f; touch /ro/x 2>/dev/null || echo ro-bind; touch /x 2>/dev/null || echo ro-root; ' +
    'grep -q " /scratch tmpfs" /proc/mounts && echo tmpfs; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; ls -d /vol');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')),
    ['bar', '/tmp', '1000', '1000', 'myhost', 'bound', 'ro-bind', 'ro-root', 'tmpfs', 'CapEff: 0000000000000000', 'NoNewPrivs: 1', '/vol']);
  const ep = await b('run', '--rm', '--init', '--entrypoint', 'sh', 'busybox', '-c', 'cat /proc/1/cmdline | tr "\\0" " "');
  assert.match(ep.stdout, /init.* sh -c/, 'with --init, pid 1 is the init and --entrypoint is its child');
  const priv = await b('run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status');
  assert.doesNotMatch(priv.stdout, /CapEff:\s+0000000000000000/);
  assert.notEqual(priv.stdout, (await b('run', '--rm', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status')).stdout, 'privileged has more capabilities');
  assert.equal((await b('volume', 'rm', 'clivol')).code, 0);
});

test('detached lifecycle: ps formats, top, inspect --format, stop -t, wait, restart, kill -s, rename, rm -f', async () => {
  const run = await b('run', '-d', '--name', 'life', '-l', 'tier=web', 'busybox', 'sh', '-c', 'trap "exit 5" TERM; echo up; while true; do sleep 0.1; done');
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const [ps, dps] = await Promise.all([b('ps'), d.docker(['ps'])]);
  // Column widths follow the content ("Less than a second ago" vs "1 second ago"): compare cells.
  const cells = (s: string) => s.split('\n').filter(Boolean).map((l) => l.split(/ {2,}/));
  assert.deepEqual(cells(ps.stdout)[0], cells(dps.stdout)[0], 'same table header as docker');
  assert.deepEqual(cells(ps.stdout)[1]!.filter((c) => !/ago$|^Up /.test(c)), cells(dps.stdout)[1]!.filter((c) => !/ago$|^Up /.test(c)), 'same row as docker');
  assert.match(ps.stdout.split('\n')[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  const row = ps.stdout.split('\n')[1]!;
  assert.ok(row.startsWith(`${id.slice(0, 12)}   busybox   "sh -c 'trap \\"exit 5…"   `), row);
  assert.match(row, /\s+Up .*\s+life$/);
  assert.equal((await b('ps', '-q')).stdout, (await d.docker(['ps', '-q'])).stdout);
  assert.equal((await b('ps', '-q', '--no-trunc')).stdout.trim(), id);
  assert.equal((await b('ps', '--filter', 'label=tier=web', '--format', '{{.Names}} {{.State}} {{.Label "tier"}}')).stdout, 'life running web\n');
  assert.equal((await b('ps', '--filter', 'name=nomatch', '-q')).stdout, '');
  const js = JSON.parse((await b('ps', '--format', 'json')).stdout.trim().split('\n')[0]!);
  assert.equal(js.Names, 'life');
  assert.equal(js.ID, id.slice(0, 12));
  assert.equal((await b('ps', '-n', '1', '--format', '{{.Names}}')).stdout, 'life\n');

  const top = await b('top', 'life');
  assert.match(top.stdout.split('\n')[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.match(top.stdout, /sh -c trap/);
  assert.equal((await b('inspect', '--format', '{{.State.Status}} {{.Name}} {{index .Config.Labels "tier"}}', 'life')).stdout, 'running /life web\n');
  assert.equal((await b('inspect', '-f', '{{json .Config.Entrypoint}}', 'life')).stdout, (await d.docker(['inspect', '-f', '{{json .Config.Entrypoint}}', 'life'])).stdout);
  const missing = await b('inspect', 'nosuch');
  assert.deepEqual([missing.code, missing.stdout, missing.stderr], [1, '[]\n', 'Error: No such object: nosuch\n']);

  const t0 = Date.now();
  assert.deepEqual(await b('stop', '-t', '3', 'life'), { code: 0, stdout: 'life\n', stderr: '' });
  assert.ok(Date.now() - t0 < 3000, 'the TERM trap ends it before the timeout');
  assert.equal((await b('wait', 'life')).stdout, '5\n');
  assert.equal((await b('restart', '-t', '1', 'life')).stdout, 'life\n');
  assert.equal((await b('inspect', '-f', '{{.State.Running}} {{.RestartCount}}', 'life')).stdout.split(' ')[0], 'true');
  assert.equal((await b('kill', '-s', 'TERM', 'life')).code, 0);
  assert.equal((await b('wait', 'life')).stdout, '5\n', 'kill -s TERM delivered TERM');
  assert.equal((await b('rename', 'life', 'life2')).code, 0);
  assert.equal((await b('start', 'life2')).stdout, 'life2\n');
  const rmRunning = await b('rm', 'life2');
  assert.equal(rmRunning.code, 1);
  assert.match(rmRunning.stderr, /^Error response from daemon: .*(running|stop the container).*\n$/);
  assert.deepEqual(await b('rm', '-f', 'life2'), { code: 0, stdout: 'life2\n', stderr: '' });
  assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
});

test('logs: -f streams while the container runs and ends with it; -t, --tail, --since', async () => {
  assert.equal((await b('run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo one; echo err >&2; sleep 1.5; echo two')).code, 0);
  // Follow: the first line must arrive well before the container exits.
  const p = spawn(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), 'logs', '-f', 'talker'], { env: { ...process.env, BERTH_HOST: d.host } });
  let out = '', err = '';
  p.stdout.on('data', (c) => (out += c));
  p.stderr.on('data', (c) => (err += c));
  const t0 = Date.now();
  await until(() => out.includes('one\n'), 5000);
  const firstAt = Date.now() - t0;
  assert.equal((await d.api('GET', '/containers/talker/json')).json().State.Running, true, 'streamed while running');
  const code = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('logs -f did not end with the container')); }, 10_000);
    p.on('close', (c) => { clearTimeout(t); resolve(c ?? -1); });
  });
  assert.equal(code, 0);
  assert.equal(out, 'one\ntwo\n');
  assert.equal(err, 'err\n', 'stderr stays stderr');
  process.stdout.write(`# logs -f: first line after ${firstAt} ms\n`);

  const ts = await b('logs', '-t', 'talker');
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n\S+Z two\n$/);
  assert.equal((await b('logs', '--tail', '1', 'talker')).stdout, 'two\n');
  assert.equal((await b('logs', '--since', '1h', 'talker')).stdout, 'one\ntwo\n');
  assert.equal((await b('logs', '--since', '2099-01-01T00:00:00Z', 'talker')).stdout, '');
  assert.equal((await b('rm', 'talker')).code, 0);
});

test('exec: exit codes, -e -w -u, -d, -i with stdin, missing binary 126, stopped container', async () => {
  assert.equal((await b('run', '-d', '--name', 'ex', 'busybox', 'sleep', '60')).code, 0);
  assert.equal((await b('exec', 'ex', 'sh', '-c', 'exit 4')).code, 4);
  const env = await b('exec', '-e', 'A=1', '-w', '/tmp', '-u', '1000', 'ex', 'sh', '-c', 'echo $A $(pwd) $(id -u)');
  assert.equal(env.stdout, '1 /tmp 1000\n');
  assert.deepEqual(await b('exec', '-d', 'ex', 'sh', '-c', 'echo bg > /tmp/d'), { code: 0, stdout: '', stderr: '' });
  await until(async () => (await b('exec', 'ex', 'cat', '/tmp/d')).stdout === 'bg\n', 5000);
  assert.equal((await d.berth(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' })).stdout, 'piped\n');
  const nb = await b('exec', 'ex', 'nosuchbin');
  assert.equal(nb.code, 126);
  assert.equal(nb.code, (await d.docker(['exec', 'ex', 'nosuchbin'])).code);
  assert.equal((await b('kill', 'ex')).code, 0);
  await b('wait', 'ex');
  const stopped = await b('exec', 'ex', 'true');
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /^Error response from daemon: .*not running/);
  oneLiner(stopped.stderr);
  assert.equal((await b('rm', 'ex')).code, 0);
});

test('create + start -a -i, run -i, attach to a stopped container', async () => {
  const c = await b('create', '--name', 'ci', '-i', 'busybox', 'sh', '-c', 'read x; echo got $x; exit 2');
  assert.equal(c.code, 0, c.stderr);
  const s = await d.berth(['start', '-a', '-i', 'ci'], { input: 'hey\n' });
  assert.deepEqual([s.code, s.stdout], [2, 'got hey\n']);
  const a = await b('attach', 'ci');
  assert.deepEqual([a.code, a.stderr], [1, 'You cannot attach to a stopped container, start it first\n']);
  assert.equal((await b('rm', 'ci')).code, 0);
  const i = await d.berth(['run', '--rm', '-i', 'busybox', 'wc', '-l'], { input: 'a\nb\nc\n' });
  assert.equal(i.stdout.trim(), '3');
});

test('images: import, images, tag, rmi; volumes; container prune; version and info', async () => {
  const { stdout: tar } = await import('node:child_process').then((cp) => new Promise<{ stdout: Buffer }>((resolve, reject) =>
    cp.execFile(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { encoding: 'buffer', maxBuffer: 64 << 20 }, (e, stdout) => (e ? reject(e) : resolve({ stdout })))));
  const tarPath = join(tmp, 'rootfs.tar');
  await writeFile(tarPath, tar);
  const imp = await b('import', '-c', 'CMD ["echo","from-import"]', tarPath, 'imported:v1');
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal((await b('run', '--rm', 'imported:v1')).stdout, 'from-import\n');
  assert.equal((await b('tag', 'imported:v1', 'other/name:t2')).code, 0);
  const [imgs, dimgs] = await Promise.all([b('images'), d.docker(['images'])]);
  assert.deepEqual(imgs.stdout.split('\n')[0]!.split(/ {2,}/), dimgs.stdout.split('\n')[0]!.split(/ {2,}/));
  assert.match(imgs.stdout, /^other\/name\s+t2\s+[0-9a-f]{12}\s+/m);
  assert.deepEqual((await b('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout.trim().split('\n').sort(), ['busybox:latest', 'imported:v1', 'other/name:t2']);
  const rmi = await b('rmi', 'other/name:t2', 'imported:v1');
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /^Untagged: other\/name:t2\nUntagged: imported:v1\nDeleted: sha256:[0-9a-f]{64}\n$/);
  const rmiMissing = await b('rmi', 'nosuch');
  assert.deepEqual([rmiMissing.code, rmiMissing.stderr], [1, 'Error response from daemon: No such image: nosuch\n']);

  assert.deepEqual(await b('volume', 'create', 'v1'), { code: 0, stdout: 'v1\n', stderr: '' });
  const [vls, dvls] = await Promise.all([b('volume', 'ls'), d.docker(['volume', 'ls'])]);
  assert.equal(vls.stdout, dvls.stdout);
  assert.equal((await b('volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'v1')).stdout, 'v1 local\n');
  // A pre-created empty volume is filled from the image at its path (compose's named
  // volumes are made before their containers), unless :nocopy; a filled one stays as it is.
  assert.equal((await b('run', '--rm', '-v', 'v1:/bin:nocopy', 'busybox', '/bin/busybox', 'true')).code, 127);
  assert.equal((await b('run', '--rm', '-v', 'v1:/etc', 'busybox', 'cat', '/etc/passwd')).code, 0, 'filled from the image');
  assert.equal((await b('run', '--rm', '-v', 'v1:/etc', 'busybox', 'sh', '-c', 'echo mine > /etc/passwd')).code, 0);
  assert.equal((await b('run', '--rm', '-v', 'v1:/etc', 'busybox', 'cat', '/etc/passwd')).stdout, 'mine\n');
  assert.equal((await b('volume', 'rm', 'v1')).stdout, 'v1\n');

  assert.equal((await b('run', '--name', 'dead', 'busybox', 'true')).code, 0);
  const prune = await b('container', 'prune', '-f');
  assert.match(prune.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.equal((await d.api('GET', '/containers/dead/json')).status, 404);

  const v = await b('version');
  assert.match(v.stdout, /^Client:\n Version:\s+\S+\n API version:\s+1\.\d+[\s\S]*\nServer: berth\n Engine:\n  Version:\s+\S+\n  API version:\s+1\.\d+ \(minimum version 1\.\d+\)\n/);
  const [info, dinfo] = await Promise.all([b('info'), d.docker(['info'])]);
  const server = (s: string) => s.slice(s.indexOf('\nServer:')).replace(/Containers: \d+[\s\S]*?Images: \d+/, '');
  assert.equal(server(info.stdout), server(dinfo.stdout), 'info server section as docker prints it');
});

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
