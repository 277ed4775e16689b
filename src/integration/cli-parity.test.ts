/**
 * Differences from Docker that a user of the docker CLI met against berthd: the image's
 * USER, `--entrypoint ""`, `-e NAME` of an unset variable, a missing network at create,
 * `docker cp` of the /etc files, the default LogConfig, /.dockerenv, network events at
 * start and exit, and kill's message.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
  for (const [name, change] of [['cp-user', 'USER nobody'], ['cp-ep', 'ENTRYPOINT ["echo","ep"]'], ['cp-env', 'ENV CP_IMG_VAR=img']]) {
    await ok('create', '--name', `${name}-src`, 'busybox', 'true');
    await ok('commit', '-c', change, `${name}-src`, name);
    await ok('rm', `${name}-src`);
  }
});
after(async () => { await d?.stop(); });

async function ok(...args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const b = (...args: string[]) => d.berth(args);

test('the image\'s USER applies to run and exec unless -u says otherwise', { timeout: 30_000 }, async () => {
  assert.equal(await ok('run', '--rm', 'cp-user', 'id', '-u'), '65534\n');
  assert.equal(await ok('run', '--rm', '-u', '0', 'cp-user', 'id', '-u'), '0\n');
  assert.equal((await b('run', '--rm', 'cp-user', 'id', '-u')).stdout, '65534\n');
  await ok('run', '-d', '--name', 'cp-user-c', 'cp-user', 'sleep', '60');
  try {
    assert.equal(await ok('exec', 'cp-user-c', 'id', '-u'), '65534\n');
    assert.equal(await ok('exec', '-u', '0', 'cp-user-c', 'id', '-u'), '0\n');
    assert.equal((await ok('inspect', '-f', '{{.Config.User}}', 'cp-user-c')).trim(), 'nobody');
  } finally {
    await ok('rm', '-f', 'cp-user-c');
  }
});

test('--entrypoint "" clears the image\'s entrypoint, and with it the image\'s command', { timeout: 30_000 }, async () => {
  assert.equal(await ok('run', '--rm', 'cp-ep', 'x'), 'ep x\n');
  assert.equal(await ok('run', '--rm', '--entrypoint', '', 'cp-ep', 'echo', 'reset'), 'reset\n');
  assert.equal((await b('run', '--rm', '--entrypoint', '', 'cp-ep', 'echo', 'reset')).stdout, 'reset\n');
  await ok('create', '--name', 'cp-ep-c', '--entrypoint', '', 'cp-ep', 'echo', 'x');
  assert.equal((await ok('inspect', '-f', '{{json .Config.Entrypoint}} {{.Path}}', 'cp-ep-c')).trim(), 'null echo');
  await ok('rm', 'cp-ep-c');
  // busybox's only command is its Cmd, which an explicit entrypoint drops: nothing is left to run.
  const none = await d.docker(['run', '--rm', '--entrypoint', '', 'busybox']);
  assert.equal(none.code, 125);
  assert.match(none.stderr, /No command specified/);
});

test('-e NAME of a variable the client does not have leaves it unset, also over the image\'s value and in exec', { timeout: 30_000 }, async () => {
  const show = 'echo "a=${CP_UNSET_VAR-unset} img=${CP_IMG_VAR-unset} b=$CP_B"';
  assert.equal(await ok('run', '--rm', '-e', 'CP_UNSET_VAR', '-e', 'CP_B=1', 'busybox', 'sh', '-c', show), 'a=unset img=unset b=1\n');
  assert.equal(await ok('run', '--rm', '-e', 'CP_IMG_VAR', 'cp-env', 'sh', '-c', show), 'a=unset img=unset b=\n');
  assert.equal(await ok('run', '--rm', 'cp-env', 'sh', '-c', show), 'a=unset img=img b=\n');
  await ok('run', '-d', '--name', 'cp-env-c', '-e', 'CP_B=2', 'cp-env', 'sleep', '60');
  try {
    assert.equal(await ok('exec', '-e', 'CP_UNSET_VAR', '-e', 'CP_IMG_VAR', 'cp-env-c', 'sh', '-c', show), 'a=unset img=unset b=2\n');
  } finally {
    await ok('rm', '-f', 'cp-env-c');
  }
});

test('a network that does not exist fails the create with its own message: no pull, nothing created', { timeout: 30_000 }, async () => {
  for (const cli of [(...a: string[]) => d.docker(a), b]) {
    const r = await cli('run', '--rm', '--name', 'cp-nonet', '--network', 'cp-nosuch', 'busybox', 'true');
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /network cp-nosuch not found/);
    assert.doesNotMatch(r.stderr, /Unable to find image/);
  }
  assert.equal((await ok('ps', '-aq', '--filter', 'name=cp-nonet')).trim(), '');
});

test('docker cp of /etc/hosts, /etc/hostname and /etc/resolv.conf gives what the container reads', { timeout: 30_000 }, async () => {
  await ok('run', '-d', '--name', 'cp-etc', '--hostname', 'cp-etc-host', '--add-host', 'cp-extra:10.1.2.3', 'busybox', 'sleep', '60');
  try {
    for (const f of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) {
      const inside = await ok('exec', 'cp-etc', 'cat', f);
      assert.ok(inside.length > 0, f);
      const tar = await d.docker(['cp', `cp-etc:${f}`, '-']);
      assert.equal(tar.code, 0, tar.stderr);
      assert.ok(tar.stdout.includes(inside), `${f}: the copy holds what the container reads`);
    }
    assert.match(await ok('exec', 'cp-etc', 'cat', '/etc/hosts'), /10\.1\.2\.3\tcp-extra/);
    await ok('stop', '-t', '0', 'cp-etc');
    assert.match((await d.docker(['cp', 'cp-etc:/etc/hostname', '-'])).stdout, /cp-etc-host/, 'stopped: the same file');
  } finally {
    await ok('rm', '-f', 'cp-etc');
  }
});

test('inspect shows the json-file log driver by default; /.dockerenv exists and is not a change of the container', { timeout: 30_000 }, async () => {
  await ok('create', '--name', 'cp-misc', 'busybox', 'sh', '-c', 'test -f /.dockerenv && touch /made');
  try {
    assert.equal((await ok('inspect', '-f', '{{.HostConfig.LogConfig.Type}}', 'cp-misc')).trim(), 'json-file');
    assert.equal((await ok('start', '-a', 'cp-misc')), '');
    assert.equal((await ok('inspect', '-f', '{{.State.ExitCode}}', 'cp-misc')).trim(), '0');
    assert.equal((await ok('diff', 'cp-misc')).trim(), 'A /made');
  } finally {
    await ok('rm', 'cp-misc');
  }
  const kill = await d.docker(['create', '--name', 'cp-killed', 'busybox', 'true']);
  assert.equal(kill.code, 0);
  const r = await d.docker(['kill', 'cp-killed']);
  assert.match(r.stderr, /Cannot kill container: cp-killed: container [0-9a-f]{64} is not running/);
  await ok('rm', 'cp-killed');
});

test('a container on a network: network connect before its start event, disconnect after its die', { timeout: 30_000 }, async () => {
  await ok('network', 'create', 'cp-evnet');
  try {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await ok('run', '-d', '--network', 'cp-evnet', 'busybox', 'true')).trim();
    assert.equal((await ok('wait', id)).trim(), '0');
    await ok('rm', id);
    const until = Math.floor(Date.now() / 1000) + 1;
    const out = await ok('events', '--since', String(since), '--until', String(until), '--format', '{{.Type}} {{.Action}} {{index .Actor.Attributes "container"}}{{.Actor.ID}}');
    const mine = out.trim().split('\n').filter((l) => l.includes(id)).map((l) => l.split(' ').slice(0, 2).join(' '));
    const at = (e: string) => mine.indexOf(e);
    for (const e of ['network connect', 'container start', 'container die', 'network disconnect', 'container destroy']) assert.ok(at(e) >= 0, `${e} in ${mine.join(', ')}`);
    assert.ok(at('network connect') < at('container start'), mine.join(', '));
    assert.ok(at('container die') < at('network disconnect'), mine.join(', '));
    assert.ok(at('network disconnect') < at('container destroy'), mine.join(', '));
  } finally {
    await ok('network', 'rm', 'cp-evnet');
  }
});

test('a client that stops reading `docker save` (save | head) does not end berthd; the next save is whole', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'GET', path: '/images/get?names=busybox' }, (res) => {
        // The first bytes of the tar, then the connection goes, as with `| head -c 1000`.
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => {});
      req.setTimeout(20_000, () => reject(new Error('no save data')));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await d.api('GET', '/_ping')).status, 200, `round ${i}: berthd still answers`);
  }
  const whole = await d.api('GET', '/images/get?names=busybox');
  assert.equal(whole.status, 200);
  assert.ok(whole.body.includes(Buffer.from('manifest.json')), 'a complete archive');
});

test('builds: a base without PATH gets the default one (ENV PATH=/x:$PATH extends it); ARG history shows the Dockerfile, not the --build-arg value', { timeout: 60_000 }, async () => {
  // berth's busybox is an imported rootfs: its config has no Env at all.
  assert.equal((await ok('image', 'inspect', '-f', '{{json .Config.Env}}', 'busybox')).trim(), 'null');
  const build = async (tag: string, dockerfile: string, ...extra: string[]) => {
    const r = await d.berth(['build', '-q', '-t', tag, ...extra, '-'], { input: dockerfile, timeout: 45_000 });
    assert.equal(r.code, 0, r.stderr);
  };
  await build('cp-path', 'FROM busybox\nENV PATH=/custom:$PATH\n');
  assert.equal((await ok('image', 'inspect', '-f', '{{json .Config.Env}}', 'cp-path')).trim(), '["PATH=/custom:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]');
  assert.equal(await ok('run', '--rm', 'cp-path', 'sh', '-c', 'echo $PATH'), '/custom:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  await build('cp-arg', 'FROM busybox\nARG TOKEN\nARG MSG=hello\nRUN true\n', '--build-arg', 'TOKEN=s3cr3t', '--build-arg', 'MSG=other');
  assert.equal((await ok('image', 'inspect', '-f', '{{.Comment}}', 'cp-arg')).trim(), '', 'the base\'s comment is not inherited');
  const history = await ok('history', '--no-trunc', '--format', '{{.CreatedBy}}', 'cp-arg');
  assert.match(history, /#\(nop\)\s+ARG TOKEN\n/);
  assert.match(history, /#\(nop\)\s+ARG MSG=hello\n/);
  assert.doesNotMatch(history.split('\n').filter((l) => l.includes('#(nop)')).join('\n'), /s3cr3t|other/, 'no --build-arg value in an ARG line');
  // A FROM with nothing after it is the base itself, as with docker's builder.
  await build('cp-same', 'FROM busybox\n');
  assert.equal((await ok('image', 'inspect', '-f', '{{.Id}}', 'cp-same')).trim(), (await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim());
  await ok('rmi', 'cp-path', 'cp-arg', 'cp-same');
});

test('docker save NAME without a tag saves every tag of that repository', { timeout: 30_000 }, async () => {
  await ok('tag', 'busybox', 'cp-repo:a');
  await ok('tag', 'busybox', 'cp-repo:b');
  try {
    const r = await d.api('GET', '/images/get?names=cp-repo');
    assert.equal(r.status, 200, r.body.toString());
    const text = r.body.toString('latin1');
    assert.match(text, /"RepoTags":\["cp-repo:a","cp-repo:b"\]|"RepoTags":\["cp-repo:b","cp-repo:a"\]/);
    assert.equal((await d.api('GET', '/images/get?names=cp-norepo')).status, 404);
  } finally {
    await ok('rmi', 'cp-repo:a', 'cp-repo:b');
  }
});

test('berth CLI templates as docker\'s: events fields by Go name and json in the wire\'s order; inspect .ID; load -q still names the image', { timeout: 30_000 }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok('create', '--name', 'cp-tmpl', '--label', 'cp-tmpl=1', 'busybox', 'true');
  const until = Math.floor(Date.now() / 1000) + 1;
  const window = ['--since', String(since), '--until', String(until), '--filter', 'label=cp-tmpl=1'];
  for (const format of ['{{.Status}}|{{.ID}}|{{.From}}|{{.Type}}|{{.Action}}|{{.Scope}}|{{.Time}}|{{.TimeNano}}', 'json', '{{json .}}']) {
    const docker = await ok('events', ...window, '--format', format);
    const berth = await b('events', ...window, '--format', format);
    assert.equal(berth.code, 0, berth.stderr);
    assert.equal(berth.stdout, docker, format);
  }
  const id = (await ok('inspect', '-f', '{{.Id}}', 'cp-tmpl')).trim();
  assert.equal((await b('inspect', '-f', '{{.ID}}', 'cp-tmpl')).stdout.trim(), id);
  assert.equal((await b('inspect', '-f', '{{.Id}}', 'cp-tmpl')).stdout.trim(), id);
  assert.doesNotMatch((await b('inspect', '-f', '{{json .}}', 'cp-tmpl')).stdout, /"ID"/, 'the alias is not part of the JSON');
  await ok('rm', 'cp-tmpl');
  const tarball = await d.api('GET', '/images/get?names=busybox');
  const { writeFileSync, rmSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'cp-load-'));
  try {
    writeFileSync(join(dir, 'bb.tar'), tarball.body);
    assert.equal((await b('load', '-q', '-i', join(dir, 'bb.tar'))).stdout, (await ok('load', '-q', '-i', join(dir, 'bb.tar'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad -p fails the create: nothing is left to conflict with the next run', { timeout: 30_000 }, async () => {
  // The docker CLI checks -p itself; berth's CLI and API clients rely on the daemon.
  for (let i = 0; i < 2; i++) {
    const r = await b('run', '--name', 'cp-badport', '-p', '99999:80', 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid host port range 99999 for 80\/tcp/);
  }
  const api = await d.api('POST', '/containers/create?name=cp-badport', { Image: 'busybox', Cmd: ['true'], HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '70000' }] } } });
  assert.equal(api.status, 400, api.body.toString());
  assert.equal((await ok('ps', '-aq', '--filter', 'name=cp-badport')).trim(), '');
});

test('cp c:/dir/. copies the directory\'s contents (into a new or an existing directory), c:/dir the directory itself; berth as docker', { timeout: 30_000 }, async () => {
  await ok('run', '-d', '--name', 'cp-dot', 'busybox', 'sh', '-c', 'mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b && sleep 60');
  const { mkdtempSync, mkdirSync, rmSync, readdirSync, statSync } = await import('node:fs');
  const { join, relative } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const tree = (dir: string): string[] => {
    const out: string[] = [];
    const walk = (p: string) => { for (const n of readdirSync(p).sort()) { const f = join(p, n); out.push(relative(dir, f)); if (statSync(f).isDirectory()) walk(f); } };
    walk(dir);
    return out;
  };
  const roots: string[] = [];
  try {
    for (const cli of [(...a: string[]) => d.docker(a), b]) {
      const root = mkdtempSync(join(tmpdir(), 'cp-dot-'));
      roots.push(root);
      mkdirSync(join(root, 'exists1'));
      mkdirSync(join(root, 'exists2'));
      for (const [src, dst] of [['cp-dot:/d/.', 'new1'], ['cp-dot:/d/.', 'exists1'], ['cp-dot:/d', 'new2'], ['cp-dot:/d', 'exists2']]) {
        const r = await cli('cp', src!, join(root, dst!));
        assert.equal(r.code, 0, r.stderr);
      }
    }
    const [docker, berth] = roots.map(tree);
    assert.deepEqual(docker, ['exists1', 'exists1/a', 'exists1/sub', 'exists1/sub/b', 'exists2', 'exists2/d', 'exists2/d/a', 'exists2/d/sub', 'exists2/d/sub/b', 'new1', 'new1/a', 'new1/sub', 'new1/sub/b', 'new2', 'new2/a', 'new2/sub', 'new2/sub/b']);
    assert.deepEqual(berth, docker);
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
    await ok('rm', '-f', 'cp-dot');
  }
});

test('flag values docker checks before any request: ps -n x, run --expose x (and --expose ranges expand)', { timeout: 30_000 }, async () => {
  const docker = await d.docker(['ps', '-n', 'x']);
  const berth = await b('ps', '-n', 'x');
  assert.equal(berth.code, 125);
  assert.equal(berth.stderr.replaceAll('berth', 'docker'), docker.stderr);
  const bad = await b('run', '--rm', '--expose', 'x', 'busybox', 'true');
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid range format for --expose: x/);
  assert.equal((await b('create', '--name', 'cp-expose', '--expose', '8000-8002/udp', 'busybox', 'true')).code, 0);
  assert.equal((await ok('inspect', '-f', '{{json .Config.ExposedPorts}}', 'cp-expose')).trim(), '{"8000/udp":{},"8001/udp":{},"8002/udp":{}}');
  await ok('rm', 'cp-expose');
});

test('printf and print in --format as Go\'s fmt: widths, flags, precision, verbs; berth prints what docker prints', { timeout: 30_000 }, async () => {
  await ok('create', '--name', 'cp-printf', '--label', 'n=42', 'busybox', 'sleep', '3600');
  try {
    const formats = [
      '{{printf "%-12s|%12s|" .Name .Name}}',
      '{{printf "%5d|%05d|%+d|%x|%o" .State.Pid 42 42 255 8}}',
      '{{printf "%.2f|%e" 3.14159 1234.5678}}',
      '{{printf "%q" .Config.Cmd}}',
      '{{printf "%d" .Name}}',
      '{{printf "%s %s" .Name}}',
      '{{printf "%T|%T|%T" .State.Pid .Name .State.Running}}',
      '{{print .Name 1 2 "a" "b"}}',
    ];
    for (const f of formats) {
      const docker = await d.docker(['inspect', '-f', f, 'cp-printf']);
      const berth = await b('inspect', '-f', f, 'cp-printf');
      assert.equal(berth.stdout, docker.stdout, f);
    }
    const ps = '{{printf "%-20s|%-8.3s|" .Names .State}}';
    assert.equal((await b('ps', '-a', '--filter', 'name=cp-printf', '--format', ps)).stdout, await ok('ps', '-a', '--filter', 'name=cp-printf', '--format', ps));
  } finally {
    await ok('rm', 'cp-printf');
  }
});

test('cp -L copies what a symlink points to, under the link\'s name; without -L the link itself; berth as docker', { timeout: 30_000 }, async () => {
  await ok('run', '-d', '--name', 'cp-link', 'busybox', 'sh', '-c', 'mkdir -p /d && echo real > /d/real && ln -s real /d/lnk && sleep 60');
  const { mkdtempSync, rmSync, lstatSync, readFileSync, readlinkSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const root = mkdtempSync(join(tmpdir(), 'cp-link-'));
  try {
    for (const [tag, cli] of [['d', (...a: string[]) => d.docker(a)], ['b', b]] as const) {
      assert.equal((await cli('cp', '-L', 'cp-link:/d/lnk', join(root, `${tag}-followed`))).code, 0);
      assert.equal((await cli('cp', 'cp-link:/d/lnk', join(root, `${tag}-link`))).code, 0);
      assert.ok(lstatSync(join(root, `${tag}-followed`)).isFile(), `${tag}: -L gives a regular file`);
      assert.equal(readFileSync(join(root, `${tag}-followed`), 'utf8'), 'real\n');
      assert.equal(readlinkSync(join(root, `${tag}-link`)), 'real', `${tag}: without -L, the link`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
    await ok('rm', '-f', 'cp-link');
  }
});

test('ps shows the image name a container was created with only while it still means that image, else the image id', { timeout: 30_000 }, async () => {
  await ok('tag', 'busybox', 'cp-re:1');
  await ok('create', '--name', 'cp-re-c', 'cp-re:1', 'true');
  const image = async (cli: (...a: string[]) => Promise<{ stdout: string }>, ...extra: string[]) => (await cli('ps', '-a', ...extra, '--filter', 'name=cp-re-c', '--format', '{{.Image}}')).stdout.trim();
  const dk = (...a: string[]) => d.docker(a);
  try {
    assert.equal(await image(dk), 'cp-re:1');
    await ok('tag', 'cp-user', 'cp-re:1'); // the name now means another image
    const id = (await ok('image', 'inspect', '-f', '{{.Id}}', 'busybox')).trim();
    assert.equal(await image(dk), id.slice(7, 19));
    assert.equal(await image(dk, '--no-trunc'), id);
    assert.equal(await image(b), await image(dk));
  } finally {
    await ok('rm', 'cp-re-c');
    await ok('rmi', 'cp-re:1');
  }
});
