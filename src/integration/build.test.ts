/**
 * The classic builder (POST /build) against a private berthd: the docker CLI (legacy
 * builder, as docker 28 picks it from /_ping's Builder-Version: 1), berth build,
 * docker-py's images.build, and hostile contexts and images.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, run } from '../testing/daemon.js';

let d: TestDaemon;
let dir: string;

before(async () => {
  d = await TestDaemon.start();
  dir = await mkdtemp('/tmp/bt-ctx-');
});
after(async () => {
  await Promise.allSettled([d?.stop(), rm(dir, { recursive: true, force: true })]);
});

const ok = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r.stdout;
};

async function context(name: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, name);
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
  return root;
}

function tarOf(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'directory'; body?: string; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  return new Promise((res, rej) => {
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    pack.on('end', () => res(Buffer.concat(chunks)));
    pack.on('error', rej);
  });
}

const MULTI = `ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hello
ENV NAME=world \\
    DIR=/app
WORKDIR $DIR
COPY src/ ./src/
RUN echo "$GREETING \${NAME:-nobody} \${UNSET:-dflt} \${NAME:+set}" > out.txt && cat src/*.txt >> out.txt
FROM busybox
LABEL stage=final
COPY --from=build /app/out.txt /result.txt
COPY --from=build /app/src /srcs
COPY --chown=1234:2345 src/a.txt /owned/
USER 1234
CMD ["cat", "/result.txt"]
`;

test('docker build: multi-stage, ARG/ENV substitution, COPY --chown, .dockerignore, then a cache hit', { timeout: 60_000 }, async () => {
  const root = await context('multi', {
    Dockerfile: MULTI,
    'src/a.txt': 'A\n',
    'src/b.txt': 'B\n',
    'src/secret.txt': 'SECRET\n',
    '.dockerignore': 'src/secret.txt\n',
  });
  const first = await d.docker(['build', '--build-arg', 'GREETING=hi', '-t', 'multi:1', root]);
  const out = ok(first);
  assert.match(out, /Step 1\/13 : FROM \$\{BASE\} AS build/);
  assert.match(out, / ---> Running in [0-9a-f]{12}/);
  assert.match(out, /Successfully built [0-9a-f]{12}/);
  assert.match(out, /Successfully tagged multi:1/);
  assert.doesNotMatch(out, /Using cache/);
  assert.equal(ok(await d.docker(['run', '--rm', 'multi:1'])), 'hi world dflt set\nA\nB\n');
  assert.equal(ok(await d.docker(['run', '--rm', 'multi:1', 'stat', '-c', '%u:%g', '/owned/a.txt'])).trim(), '1234:2345');
  // COPY --from of a directory: its contents (the ignored file never reached the stage).
  assert.equal(ok(await d.docker(['run', '--rm', 'multi:1', 'ls', '/srcs'])), 'a.txt\nb.txt\n');
  const cfg = JSON.parse(ok(await d.docker(['image', 'inspect', 'multi:1', '--format', '{{json .Config}}'])));
  assert.equal(cfg.User, '1234');
  assert.deepEqual(cfg.Cmd, ['cat', '/result.txt']);
  assert.equal(cfg.Labels.stage, 'final');
  // The history has an entry per step; metadata steps add no layer.
  const hist = ok(await d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'multi:1'])).trim().split('\n');
  assert.ok(hist.some((h) => /#\(nop\)\s+CMD \["cat","\/result.txt"\]\|0B/.test(h)), hist.join('\n'));

  // The same build again: every step from the cache, the same image.
  const again = ok(await d.docker(['build', '--build-arg', 'GREETING=hi', '-t', 'multi:2', root]));
  assert.equal((again.match(/Using cache/g) ?? []).length, 11, again);
  const id = (s: string) => /Successfully built ([0-9a-f]{12})/.exec(s)![1];
  assert.equal(id(again), id(out));
  // A changed file misses from its COPY on.
  await writeFile(join(root, 'src/b.txt'), 'B2\n');
  const changed = ok(await d.docker(['build', '--build-arg', 'GREETING=hi', '-t', 'multi:3', root]));
  assert.match(changed, /COPY src\/ \.\/src\/\n ---> [0-9a-f]{12}\n/);
  assert.equal(ok(await d.docker(['run', '--rm', 'multi:3'])), 'hi world dflt set\nA\nB2\n');
  // --no-cache runs everything.
  const fresh = ok(await d.berth(['build', '--no-cache', '-q', '--build-arg', 'GREETING=hi', root]));
  assert.match(fresh.trim(), /^sha256:[0-9a-f]{64}$/);
});

test('berth build: a failing RUN exits non-zero with docker\'s message and tags nothing; --target stops early', { timeout: 30_000 }, async () => {
  const root = await context('fail', {
    Dockerfile: 'FROM busybox\nRUN echo before && exit 3\n',
    'Dockerfile.target': 'FROM busybox AS one\nRUN touch /one\nFROM one AS two\nRUN exit 9\n',
  });
  const r = await d.berth(['build', '-t', 'failed:1', root]);
  assert.equal(r.code, 3, 'the failed RUN\'s code, as docker build exits');
  const dk = await run('docker', ['build', '-q', '-t', 'failed:1', root], { DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0' });
  assert.equal(dk.code, 3, dk.stderr);
  assert.match(r.stdout, /before/);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo before && exit 3' returned a non-zero code: 3/);
  assert.equal((await d.docker(['image', 'inspect', 'failed:1'])).code, 1);
  const t = ok(await d.berth(['build', '-f', join(root, 'Dockerfile.target'), '--target', 'one', '-t', 'target:one', root]));
  assert.match(t, /Step 2\/2 : RUN touch \/one/);
  ok(await d.docker(['run', '--rm', 'target:one', 'ls', '/one']));
});

test('hostile contexts: names outside the context, entries below a symlink, links out of the context, COPY through an image symlink', { timeout: 30_000 }, async () => {
  const build = async (tarball: Buffer, q = '') => d.api('POST', `/build?t=hostile${q}`, tarball, { 'Content-Type': 'application/x-tar' });
  const escape = await build(await tarOf([{ name: 'Dockerfile', body: 'FROM busybox\nCOPY . /\n' }, { name: '../../escaped-by-build', body: 'x' }]));
  assert.equal(escape.status, 400, escape.body.toString());
  assert.match(escape.body.toString(), /outside the context/);
  const under = await build(await tarOf([
    { name: 'Dockerfile', body: 'FROM busybox\n' },
    { name: 'ln', type: 'symlink', linkname: '/tmp' },
    { name: 'ln/escaped-by-build', body: 'x' },
  ]));
  assert.equal(under.status, 400);
  assert.ok(!existsSync('/tmp/escaped-by-build'));

  // A context symlink to the host's /etc/hostname resolves inside the context: nothing there.
  const linkOut = await build(await tarOf([
    { name: 'Dockerfile', body: 'FROM busybox\nCOPY passwd /stolen\n' },
    { name: 'passwd', type: 'symlink', linkname: '/etc/hostname' },
  ]));
  assert.match(linkOut.body.toString(), /file not found in build context/);

  // An image symlink to / sends COPY to the image's own root, never the host's.
  const marker = `berth-build-${process.pid}`;
  const viaImage = await build(await tarOf([
    { name: 'Dockerfile', body: `FROM busybox\nRUN ln -s / /hostroot && ln -s /etc /etclink\nCOPY ${marker} /hostroot/tmp/\nCOPY ${marker} /etclink/\n` },
    { name: marker, body: 'inside\n' },
  ]));
  assert.equal(viaImage.status, 200);
  assert.doesNotMatch(viaImage.body.toString(), /errorDetail/, viaImage.body.toString());
  assert.ok(!existsSync(`/tmp/${marker}`) && !existsSync(`/etc/${marker}`));
  assert.equal(ok(await d.docker(['run', '--rm', 'hostile', 'cat', `/tmp/${marker}`, `/etc/${marker}`])), 'inside\ninside\n');

  // A Dockerfile that is not there is a 404 before any stream; a bad one a 400.
  assert.equal((await build(await tarOf([{ name: 'x', body: '' }]))).status, 404);
  assert.equal((await build(await tarOf([{ name: 'Dockerfile', body: 'FROM busybox\nBOGUS x\n' }]))).status, 400);
});

test('ADD unpacks a local tar; the context may be gzip; DOCKER_BUILDKIT=0 and docker-py images.build work', { timeout: 45_000 }, async () => {
  const inner = await tarOf([{ name: 'pkg/', type: 'directory' }, { name: 'pkg/file', body: 'unpacked\n' }, { name: '../evil', body: 'no' }]);
  const root = await context('add', { Dockerfile: 'FROM busybox\nADD bundle.tar /opt/\nRUN cat /opt/pkg/file && test ! -e /evil && test ! -e /opt/../evil\n' });
  await writeFile(join(root, 'bundle.tar'), inner);
  const r = await d.docker(['build', '-t', 'added', root], {});
  // ../evil inside the archive is refused: the ADD fails rather than writing outside /opt.
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /outside the context/);
  await writeFile(join(root, 'bundle.tar'), await tarOf([{ name: 'pkg/file', body: 'unpacked\n' }]));
  const env = { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_HOST: d.host };
  const legacy = spawnSync('docker', ['build', '-q', '-t', 'added', root], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(legacy.status, 0, legacy.stderr);
  assert.match(legacy.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(await d.docker(['run', '--rm', 'added', 'cat', '/opt/pkg/file'])), 'unpacked\n');
  const gz = gzipSync(await tarOf([{ name: 'Dockerfile', body: 'FROM busybox\nCOPY f /f\n' }, { name: 'f', body: 'gz\n' }]));
  const viaGzip = await d.api('POST', '/v1.41/build?t=gz', gz, { 'Content-Type': 'application/x-tar' });
  assert.match(viaGzip.body.toString(), /"aux":\{"ID":"sha256:[0-9a-f]{64}"\}/);
  assert.equal(ok(await d.docker(['run', '--rm', 'gz', 'cat', '/f'])), 'gz\n');

  const py = await context('py', { Dockerfile: 'FROM busybox\nARG V\nRUN echo "v=$V" > /v\nCMD ["cat", "/v"]\n' });
  const script = `import docker, sys
c = docker.DockerClient(base_url=sys.argv[1], version='1.41')
img, logs = c.images.build(path=sys.argv[2], tag='py:built', buildargs={'V': '42'}, rm=True)
print(''.join(l.get('stream', '') for l in logs))
print(c.containers.run('py:built', remove=True).decode(), end='')
`;
  const p = spawnSync('/usr/bin/python3', ['-c', script, `unix://${d.socket}`, py], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /Successfully tagged py:built/);
  assert.match(p.stdout, /v=42\n$/);
});

test('ADD of a tar keeps its device nodes and FIFOs in the layer (docker does); docker cp still refuses them', { timeout: 45_000 }, async () => {
  const pack = tar.pack();
  pack.entry({ name: 'devs/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'devs/zero', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o640, uid: 0, gid: 0 });
  pack.entry({ name: 'devs/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o600 });
  pack.entry({ name: 'devs/pipe', type: 'fifo', mode: 0o620 });
  pack.entry({ name: 'devs/file', mode: 0o644 }, 'f\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const devTar = Buffer.concat(chunks);
  const root = await context('add-dev', { Dockerfile: 'FROM busybox\nADD devs.tar /opt/\n' });
  await writeFile(join(root, 'devs.tar'), devTar);
  ok(await d.docker(['build', '-q', '-t', 'devs', root]));
  const st = ok(await d.docker(['run', '--rm', 'devs', 'sh', '-c', 'cd /opt/devs && stat -c "%n %F %t:%T %a" zero loop9 pipe file']));
  assert.equal(st, 'zero character special file 1:5 640\nloop9 block special file 7:9 600\npipe fifo 0:0 620\nfile regular file 0:0 644\n');
  // A 0/0 character device would be an overlay whiteout in the build container: refused, named.
  const wp = tar.pack();
  wp.entry({ name: 'wh', type: 'character-device', devmajor: 0, devminor: 0 });
  wp.finalize();
  const wc: Buffer[] = [];
  for await (const c of wp) wc.push(c as Buffer);
  await writeFile(join(root, 'devs.tar'), Buffer.concat(wc));
  const bad = await d.docker(['build', '-q', root]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /archive entry "wh" is a 0\/0 character device/);
  // docker cp keeps refusing device nodes.
  ok(await d.docker(['create', '--name', 'devcp', 'busybox']));
  const put = await d.api('PUT', '/containers/devcp/archive?path=/tmp', devTar, { 'Content-Type': 'application/x-tar' });
  assert.equal(put.status, 400, put.body.toString());
  assert.match(put.json().message, /unsupported type "character-device"/);
  ok(await d.docker(['rm', 'devcp']));
  ok(await d.docker(['rmi', 'devs']));
});

const volumeCount = async () => ok(await d.docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean).length;

test('VOLUME keeps COPY content and drops RUN changes (no volume left behind); ONBUILD triggers run once', { timeout: 60_000 }, async () => {
  const root = await context('vol', {
    Dockerfile: `FROM busybox
RUN mkdir /data && echo before > /data/a
VOLUME /data
COPY f /data/f
RUN echo run > /data/r && echo changed > /data/a && cat /data/f
ONBUILD RUN echo trig > /trig
ONBUILD COPY child.txt /child.txt
`,
    f: 'copied\n',
    'child/Dockerfile': 'FROM vbase\nRUN cat /trig /child.txt\n',
    'child/child.txt': 'from child context\n',
    'grand/Dockerfile': 'FROM vchild\nRUN true\n',
    'chain/Dockerfile': 'FROM busybox\nONBUILD ONBUILD RUN true\n',
  });
  const vols = await volumeCount();
  const out = ok(await d.docker(['build', '-t', 'vbase', root]));
  assert.match(out, /copied/); // the RUN saw the COPY's file in its volume
  assert.equal(await volumeCount(), vols, 'a build container left an anonymous volume');
  assert.equal(ok(await d.docker(['run', '--rm', 'vbase', 'sh', '-c', 'cat /data/a /data/f; test ! -e /data/r && echo no-r'])), 'before\ncopied\nno-r\n');
  assert.equal(ok(await d.docker(['image', 'inspect', 'vbase', '--format', '{{len .Config.OnBuild}}'])).trim(), '2');

  const child = ok(await d.docker(['build', '-t', 'vchild', join(root, 'child')]));
  assert.match(child, /Step 1\/2 : FROM vbase\n# Executing 2 build triggers\n[\s\S]*---> Running in [\s\S]*Step 2\/2 : RUN cat/, child);
  assert.match(child, /trig\nfrom child context\n/);
  assert.equal(ok(await d.docker(['image', 'inspect', 'vchild', '--format', '{{json .Config.OnBuild}}'])).trim(), 'null');
  const grand = ok(await d.docker(['build', '-t', 'vgrand', join(root, 'grand')]));
  assert.doesNotMatch(grand, /build trigger/);
  assert.equal(await volumeCount(), vols);

  const chain = await d.docker(['build', join(root, 'chain')]);
  assert.equal(chain.code, 1);
  assert.match(chain.stderr, /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
});

test('ADD <url>: redirects followed, named from the URL, mode 0600, Last-Modified mtime, archives not unpacked, --checksum, cache by content', { timeout: 60_000 }, async () => {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  let hello = 'hello over http\n';
  const archive = gzipSync(await tarOf([{ name: 'inside', body: 'x' }]));
  const lastMod = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const server = createServer((req, res) => {
    if (req.url === '/redirect') res.writeHead(302, { Location: '/files/hello.txt' }).end();
    else if (req.url === '/files/hello.txt') res.writeHead(200, { 'Last-Modified': lastMod }).end(hello);
    else if (req.url === '/files/data.tar.gz') res.writeHead(200).end(archive);
    else if (req.url === '/files/') res.writeHead(200).end('an index\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const sum = (s: string) => createHash('sha256').update(s).digest('hex');
    const dockerfile = (checksum: string) => `FROM busybox
ADD ${base}/redirect ${base}/files/data.tar.gz /dl/
ADD --checksum=sha256:${checksum} ${base}/files/hello.txt /dl/checked.txt
`;
    const root = await context('url', { Dockerfile: dockerfile(sum(hello)) });
    const first = ok(await d.docker(['build', '-t', 'urladd', root]));
    assert.doesNotMatch(first, /Using cache/);
    const stat = ok(await d.docker(['run', '--rm', 'urladd', 'stat', '-c', '%a %u %Y %s %n', '/dl/redirect', '/dl/data.tar.gz', '/dl/checked.txt']));
    const epoch = Date.parse(lastMod) / 1000;
    assert.equal(stat, `600 0 ${epoch} ${hello.length} /dl/redirect\n600 0 0 ${archive.length} /dl/data.tar.gz\n600 0 ${epoch} ${hello.length} /dl/checked.txt\n`);
    // Same downloads: cache hits; a changed download misses.
    assert.equal((ok(await d.docker(['build', root])).match(/Using cache/g) ?? []).length, 2);
    hello = 'changed\n';
    await writeFile(join(root, 'Dockerfile'), dockerfile(sum(hello)));
    const changed = ok(await d.docker(['build', root]));
    assert.equal((changed.match(/Using cache/g) ?? []).length, 0, changed);
    await writeFile(join(root, 'Dockerfile'), dockerfile(sum('something else')));
    const bad = await d.docker(['build', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`has digest sha256:${sum(hello)}, not the expected sha256:${sum('something else')}`));
    await writeFile(join(root, 'Dockerfile'), `FROM busybox\nADD ${base}/files/ /dl/\n`);
    assert.match((await d.docker(['build', root])).stderr, /cannot determine a file name/);
  } finally {
    server.close();
  }
});

test('q=1 sends headers at once and only the id; a failing quiet build reports its log', { timeout: 30_000 }, async () => {
  const { request } = await import('node:http');
  const post = (df: string) => tarOf([{ name: 'Dockerfile', body: df }]).then((body) => new Promise<{ headersAt: number; endAt: number; body: string }>((resolve, reject) => {
    const t0 = Date.now();
    const req = request({ socketPath: d.socket, method: 'POST', path: '/build?q=1&nocache=1', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const headersAt = Date.now() - t0;
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ headersAt, endAt: Date.now() - t0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  }));
  const slow = await post('FROM busybox\nRUN echo noisy && sleep 2\n');
  assert.ok(slow.endAt - slow.headersAt >= 1500, `headers at ${slow.headersAt} ms, end at ${slow.endAt} ms`);
  assert.match(slow.body, /^\{"aux":\{"ID":"(sha256:[0-9a-f]{64})"\}\}\n\{"stream":"\1\\n"\}\n$/);
  const failed = await post('FROM busybox\nRUN echo noisy && exit 4\n');
  assert.match(failed.body, /noisy/);
  assert.match(failed.body, /"errorDetail":\{"code":4,/);
});

test('COPY --from with globs (Go path.Match on the source image); --network none, --add-host, --build-arg from the client env', { timeout: 45_000 }, async () => {
  const root = await context('globs', {
    Dockerfile: `FROM busybox AS src
RUN mkdir -p /out/sub && echo 1 > /out/a.txt && echo 2 > /out/b.txt && echo 3 > /out/c.log && echo 4 > /out/sub/d.txt && ln -s a.txt /out/link.txt
FROM busybox
COPY --from=src /out/*.txt /got/
COPY --from=src /out/[bc].* /bc/
COPY --from=0 /out/s?b /subdir/
`,
    'none/Dockerfile': 'FROM src\nCOPY --from=src /out/*.none /x/\n',
    'net/Dockerfile': 'FROM busybox\nARG FROMENV\nARG UNSETARG=dflt\nRUN echo "env=$FROMENV unset=$UNSETARG ifs=$(grep -c : /proc/net/dev) host=$(grep myhost /etc/hosts)"\n',
  });
  ok(await d.docker(['build', '-t', 'globbed', root]));
  assert.equal(ok(await d.docker(['run', '--rm', 'globbed', 'sh', '-c', 'ls /got /bc /subdir; cat /got/link.txt'])), '/bc:\nb.txt\nc.log\n\n/got:\na.txt\nb.txt\nlink.txt\n\n/subdir:\nd.txt\n1\n');
  ok(await d.docker(['tag', 'globbed', 'src']));
  const none = await d.docker(['build', join(root, 'none')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no source files were specified/);

  const { execFile } = await import('node:child_process');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, FROMENV: 'fromclient' };
  delete env.UNSETARG;
  const args = ['build', '--no-cache', '--network', 'none', '--add-host', 'myhost:10.1.2.3', '--build-arg', 'FROMENV', '--build-arg', 'UNSETARG', join(root, 'net')];
  const out = await new Promise<string>((resolve, reject) => execFile('docker', args, { env, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr + stdout)) : resolve(stdout))));
  assert.match(out, /env=fromclient unset=dflt ifs=1 host=10\.1\.2\.3\s+myhost/);
  assert.doesNotMatch(out, /not consumed/);
});

test('squash is refused as dockerd refuses it without experimental features (400)', { timeout: 20_000 }, async () => {
  const r = await d.api('POST', '/build?squash=1&t=sq:1', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 400);
  assert.match(r.body.toString(), /squash is only supported with experimental mode/);
  assert.equal((await d.api('GET', '/images/sq:1/json')).status, 404, 'nothing was built');
});

test('docker build -f with a Dockerfile outside the context (the CLI sends that context without its tar end blocks)', { timeout: 45_000 }, async () => {
  const root = await context('outside', { 'f.txt': 'from-context\n' });
  const elsewhere = await context('outside-df', { Dockerfile: 'FROM busybox\nCOPY f.txt /f.txt\n' });
  const r = await run('docker', ['build', '-q', '-f', join(elsewhere, 'Dockerfile'), '-t', 'outside:1', root], { DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0' }, { timeout: 40_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(ok(await d.docker(['run', '--rm', 'outside:1', 'cat', '/f.txt'])), 'from-context\n');
  ok(await d.docker(['rmi', 'outside:1']));
});
