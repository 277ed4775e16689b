/**
 * docker-compose 1.29 (Debian's) as a new user drives it, beyond compat.test.ts:
 * a file-format 2.4 project with a multi-stage build (args + target), depends_on
 * service_healthy, aliases, a fixed ipv4_address on an internal network, links,
 * network_mode service:, volumes_from, read_only + tmpfs, ports (range, 127.0.0.1,
 * udp), env_file, labels, stop_signal / stop_grace_period, init, cap_add, ulimits,
 * mem_limit / cpus, restart, scale, pause, top, port, config, run --service-ports,
 * logs -f --tail, recreate vs up-to-date and down -v --rmi local --remove-orphans;
 * then two projects from one file side by side on an external network, with an MTU
 * option and pid/ipc "service:x", and a foreground `up` stopped with SIGINT.
 * Every compose call has its own deadline.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { httpGet } from '../testing/http-get.js';
import { TestDaemon, run } from '../testing/daemon.js';
import { freeOctet } from '../testing/netns.js';

// A /24 no host route uses (a fixed one met another suite's network on this shared machine).
const NET = `10.${freeOctet(77, 150, 250)}.77`;
const DB_IP_RE = `${NET}.10`.replaceAll('.', '\\.');

const COMPOSE = '/usr/bin/docker-compose';
const skip = !existsSync(COMPOSE) && 'docker-compose is not installed (apt-get install docker-compose)';

let d: TestDaemon;
let dir: string;
before(async () => {
  if (skip) return;
  d = await TestDaemon.start();
  dir = await mkdtemp('/tmp/bcp-');
});
after(async () => {
  if (!d) return;
  await d.stop();
  await rm(dir, { recursive: true, force: true });
});

function compose(project: string, file: string, args: string[], env: Record<string, string> = {}, timeout = 30000) {
  return run(COMPOSE, ['-p', project, '-f', file, '--ansi', 'never', ...args], { DOCKER_HOST: d.host, ...env }, { timeout });
}

function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}


const DOCKERFILE = `FROM busybox:latest AS base
ARG GREETING=default
RUN echo "greeting=$GREETING" > /greeting
FROM base AS prod
RUN echo prod > /stage
FROM base AS dev
RUN echo dev > /stage
CMD ["sh", "-c", "exec httpd -f -p 80 -h /"]
`;

// db traps SIGINT (its stop_signal) so a recreate shows the signal arrived; side and
// worker stop with SIGKILL so the test never waits out a grace period.
const PROJECT_A = `version: "2.4"
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; echo db ready; trap 'echo db got INT; exit 0' INT; while true; do sleep 0.2; done"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, timeout: 2s, retries: 20}
    stop_signal: SIGINT
    stop_grace_period: 5s
    labels: {com.example.role: "\${ROLE:-database}"}
    networks:
      back: {aliases: [database], ipv4_address: ${NET}.10}
    volumes: [dbdata:/var/lib/db]
  web:
    build: {context: ./app, target: dev, args: {GREETING: hello-arg}}
    depends_on: {db: {condition: service_healthy}}
    ports: ["127.0.0.1::80", "127.0.0.1::8090-8091", "127.0.0.1::5353/udp"]
    environment: [SHARED=env, ONLY_ENV=1]
    env_file: app.env
    networks: [front, back]
    links: ["db:legacydb"]
    init: true
    cap_add: [NET_ADMIN]
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    mem_limit: 64m
    cpus: 0.5
    restart: unless-stopped
    stop_grace_period: 2s
  side:
    image: busybox:latest
    command: ["sleep", "3600"]
    network_mode: "service:web"
    volumes_from: [db]
    read_only: true
    tmpfs: ["/run:size=1m"]
    stop_signal: SIGKILL
  worker:
    image: busybox:latest
    command: ["sh", "-c", "echo worker up; exec sleep 3600"]
    networks: [back]
    restart: on-failure:3
    stop_signal: SIGKILL
volumes:
  dbdata: {}
networks:
  front: {}
  back:
    internal: true
    ipam: {config: [{subnet: ${NET}.0/24}]}
`;

test('docker-compose 1.29: a 2.4 project end to end (build, healthy deps, networks, limits, scale, recreate, down)', { skip, timeout: 120000 }, async () => {
  const p = join(dir, 'a');
  await mkdir(join(p, 'app'), { recursive: true });
  await writeFile(join(p, 'app/Dockerfile'), DOCKERFILE);
  await writeFile(join(p, 'app.env'), '# a comment\nFROM_FILE=yes\nSHARED=file\n');
  const file = join(p, 'docker-compose.yml');
  await writeFile(file, PROJECT_A);
  const c = (args: string[], env: Record<string, string> = {}, timeout?: number) => compose('cpa', file, args, env, timeout);
  try {
    assert.deepEqual(ok(await c(['config', '--services']), 'config').trim().split('\n').sort(), ['db', 'side', 'web', 'worker']);

    ok(await c(['up', '-d'], {}, 60000), 'up -d');
    const ps = ok(await c(['ps']), 'ps');
    assert.match(ps, /cpa_db_1 .* Up \(healthy\)/);
    assert.match(ps, /cpa_web_1 .* Up .*127\.0\.0\.1:\d+->5353\/udp/);

    // Built from target dev with the build arg; the published port answers.
    const webPort = ok(await c(['port', 'web', '80']), 'port').trim();
    assert.match(webPort, /^127\.0\.0\.1:\d+$/);
    assert.equal(await httpGet(Number(webPort.split(':')[1]), '/greeting'), 'greeting=hello-arg\n');
    assert.equal(await httpGet(Number(webPort.split(':')[1]), '/stage'), 'dev\n');
    assert.match(ok(await c(['port', '--protocol', 'udp', 'web', '5353']), 'port udp'), /^127\.0\.0\.1:\d+\n$/);
    assert.match(ok(await c(['port', 'web', '8091']), 'port range'), /^127\.0\.0\.1:\d+\n$/);

    // Inside web: env + env_file precedence, ulimits, cap_add, DNS for link alias and
    // network alias, and exec runs bare (the container's tini stays the only init).
    const webExec = await c(['exec', '-T', 'web', 'sh', '-c',
      // The ulimits of the container's own init: Debian's runc 1.1.5 sets an exec's
      // RLIMIT_NOFILE racily (opencontainers/runc#4195, fixed in runc 1.1.13).
      "echo $SHARED $ONLY_ENV $FROM_FILE; awk '/^Max open files/ {print $4; print $5}' /proc/1/limits; grep CapEff /proc/self/status; " +
      'ping -c1 legacydb | head -1; ping -c1 database | head -1; ps -o args | grep -c "^/sbin/docker-init"']);
    const lines = ok(webExec, 'exec web').trim().split('\n');
    assert.equal(lines[0], 'env 1 yes');
    assert.deepEqual(lines.slice(1, 3), ['1024', '2048']);
    assert.ok((parseInt(lines[3]!.split(/\s+/)[1]!, 16) & (1 << 12)) !== 0, `NET_ADMIN in ${lines[3]}`);
    assert.match(lines[4]!, new RegExp(`PING legacydb \\(${DB_IP_RE}\\)`));
    assert.match(lines[5]!, new RegExp(`PING database \\(${DB_IP_RE}\\)`));
    assert.equal(lines[6], '1', 'one docker-init: the exec is not wrapped in a second tini');
    assert.doesNotMatch(webExec.stderr, /Tini|tini/);
    const web = (await d.api('GET', '/containers/cpa_web_1/json')).json();
    assert.equal(web.HostConfig.Init, true);
    assert.equal(web.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(web.HostConfig.NanoCpus, 500_000_000);
    assert.deepEqual(web.HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    const back = web.NetworkSettings.Networks.cpa_back;
    assert.equal(new Set(back.DNSNames).size, back.DNSNames.length, `DNSNames listed once each: ${back.DNSNames}`);
    const db = (await d.api('GET', '/containers/cpa_db_1/json')).json();
    assert.equal(db.Config.StopSignal, 'SIGINT');
    assert.equal(db.Config.StopTimeout, 5);
    assert.equal(db.Config.Labels['com.example.role'], 'database');
    assert.equal(db.NetworkSettings.Networks.cpa_back.IPAddress, `${NET}.10`);
    // compose writes its volumes as `name:/path:rw`; inspect shows that mode as given.
    assert.deepEqual(db.Mounts.map((m: { Name: string; Mode: string; RW: boolean }) => [m.Name, m.Mode, m.RW]), [['cpa_dbdata', 'rw', true]]);

    // side shares web's network namespace, mounts db's volumes, has a read-only root and a tmpfs.
    const side = await c(['exec', '-T', 'side', 'sh', '-c', 'test -d /var/lib/db && echo vol; touch /x 2>/dev/null || echo ro; grep -c " /run tmpfs" /proc/mounts; wget -qO- 127.0.0.1:80/stage']);
    assert.equal(ok(side, 'exec side'), 'vol\nro\n1\ndev\n');
    // worker sits on the internal network only: no default route, names still resolve.
    const worker = ok(await c(['exec', '-T', 'worker', 'sh', '-c', 'ip route | grep -c default; ping -c1 db | head -1']), 'exec worker');
    assert.match(worker, new RegExp(`^0\\nPING db \\(${DB_IP_RE}\\)`));

    // One-off: -e and --service-ports reach the container; --rm removes it.
    assert.equal(ok(await c(['run', '--rm', '-T', '-e', 'FOO=bar', 'web', 'sh', '-c', 'echo $FOO $SHARED']), 'run --rm'), 'bar env\n');
    const oneoff = ok(await c(['run', '-d', '--service-ports', '-e', 'FOO=baz', 'web']), 'run -d --service-ports').trim().split('\n').pop()!;
    const oneoffPorts = ok(await d.docker(['port', oneoff]), 'docker port');
    assert.match(oneoffPorts, /^80\/tcp -> 127\.0\.0\.1:\d+$/m);
    assert.match(oneoffPorts, /^5353\/udp -> 127\.0\.0\.1:\d+$/m);
    assert.equal(ok(await d.docker(['exec', oneoff, 'sh', '-c', 'echo $FOO']), 'exec one-off'), 'baz\n');
    ok(await d.docker(['rm', '-f', oneoff]), 'rm one-off');

    // Unchanged config: nothing recreated.
    const again = await c(['up', '-d']);
    assert.equal(ok(again, 'up -d again'), '');
    for (const s of ['db', 'web', 'side', 'worker']) assert.match(again.stderr, new RegExp(`cpa_${s}_1 is up-to-date`));

    assert.match(ok(await c(['top', 'db']), 'top'), /sh -c sleep 1/);
    ok(await c(['pause', 'worker']), 'pause');
    assert.match(ok(await c(['ps', 'worker']), 'ps paused'), /cpa_worker_1 .* Paused/);
    ok(await c(['unpause', 'worker']), 'unpause');

    const scaled = await c(['up', '-d', '--scale', 'worker=3'], {}, 60000);
    ok(scaled, 'scale');
    assert.match(scaled.stderr, /Creating cpa_worker_3/);
    assert.equal((ok(await c(['ps', '-q', 'worker']), 'ps -q').trim().split('\n')).length, 3);

    // A changed label recreates db; db got its stop_signal (it traps SIGINT).
    const oldDb = db.Id as string;
    const re = await c(['up', '-d', '--scale', 'worker=3'], { ROLE: 'db2' }, 60000);
    ok(re, 'up -d changed');
    assert.match(re.stderr, /Recreating cpa_db_1/);
    assert.doesNotMatch(re.stderr, /Recreating cpa_worker/);
    const newDb = (await d.api('GET', '/containers/cpa_db_1/json')).json();
    assert.notEqual(newDb.Id, oldDb);
    assert.equal(newDb.Config.Labels['com.example.role'], 'db2');
    assert.equal((await d.api('GET', `/containers/${oldDb}/json`)).status, 404);

    // logs -f --tail follows until the containers stop, with service prefixes.
    const follow = c(['logs', '-f', '--tail', '1', '--no-color', 'worker'], { ROLE: 'db2' }, 20000);
    await new Promise((r) => setTimeout(r, 1500));
    ok(await c(['stop', 'worker'], { ROLE: 'db2' }), 'stop worker');
    const logs = ok(await follow, 'logs -f');
    for (const n of [1, 2, 3]) assert.match(logs, new RegExp(`worker_${n} +\\| worker up`));

    const down = await c(['down', '-v', '--rmi', 'local', '--remove-orphans'], { ROLE: 'db2' }, 60000);
    ok(down, 'down');
    assert.match(down.stderr, /Removing image cpa_web/);
    const left = ok(await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=cpa']), 'ps');
    assert.equal(left, '');
    assert.equal(ok(await d.docker(['volume', 'ls', '-q', '--filter', 'name=cpa_']), 'volumes'), '');
    assert.equal(ok(await d.docker(['network', 'ls', '-q', '--filter', 'name=cpa_']), 'networks'), '');
    assert.notEqual((await d.docker(['image', 'inspect', 'cpa_web'])).code, 0);
    assert.equal((await d.docker(['image', 'inspect', 'busybox:latest'])).code, 0);
  } finally {
    await c(['down', '-v', '-t', '0', '--remove-orphans'], { ROLE: 'db2' }, 60000).catch(() => {});
  }
});

const PROJECT_B = `version: "2.4"
services:
  tick:
    image: busybox:latest
    command: ["sh", "-c", "trap 'echo tick stopping; exit 0' INT; i=0; while true; do i=$$((i+1)); echo tick $$i; sleep 0.3; done"]
    stop_signal: SIGINT
  web:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    ports: ["127.0.0.1::8080"]
    networks: [default, ext]
    ipc: shareable
  peek:
    image: busybox:latest
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    pid: "service:web"
    ipc: "service:web"
networks:
  default: {driver_opts: {com.docker.network.driver.mtu: "1400"}}
  ext: {external: true, name: cpb-ext}
`;

test('docker-compose 1.29: two projects side by side on an external network, network MTU, pid/ipc service:, foreground up stops on SIGINT', { skip, timeout: 90000 }, async () => {
  const p = join(dir, 'b');
  await mkdir(p, { recursive: true });
  const file = join(p, 'docker-compose.yml');
  await writeFile(file, PROJECT_B);
  ok(await d.docker(['network', 'create', 'cpb-ext']), 'network create');
  try {
    ok(await compose('cpb1', file, ['up', '-d', '--scale', 'web=2'], {}, 60000), 'up cpb1');
    ok(await compose('cpb2', file, ['up', '-d'], {}, 60000), 'up cpb2');
    const ps1 = ok(await compose('cpb1', file, ['ps']), 'ps cpb1');
    assert.match(ps1, /cpb1_web_2/);
    assert.doesNotMatch(ps1, /cpb2_/);
    const ext = (await d.api('GET', '/networks/cpb-ext')).json();
    const onExt = Object.values<{ Name: string }>(ext.Containers ?? {}).map((x) => x.Name).sort();
    assert.deepEqual(onExt, ['cpb1_web_1', 'cpb1_web_2', 'cpb2_web_1']);
    // Same service name, different projects: DNS answers within each project's own network.
    const ip2 = (await d.api('GET', '/containers/cpb2_web_1/json')).json().NetworkSettings.Networks.cpb2_default.IPAddress;
    assert.match(ok(await compose('cpb2', file, ['exec', '-T', 'tick', 'ping', '-c1', 'web']), 'ping'), new RegExp(`\\(${ip2.replace(/\./g, '\\.')}\\)`));

    // The network's MTU option reaches the container's interface.
    assert.equal(ok(await compose('cpb2', file, ['exec', '-T', 'tick', 'cat', '/sys/class/net/eth0/mtu']), 'mtu'), '1400\n');
    // pid/ipc "service:web": peek sees web's processes and shares its IPC namespace.
    const peek = ok(await compose('cpb2', file, ['exec', '-T', 'peek', 'sh', '-c', 'ps -o args; readlink /proc/self/ns/ipc']), 'exec peek');
    assert.match(peek, /trap 'exit 0' TERM/);
    const webIpc = ok(await compose('cpb2', file, ['exec', '-T', 'web', 'readlink', '/proc/self/ns/ipc']), 'exec web');
    assert.equal(peek.trim().split('\n').pop(), webIpc.trim());
    const refused = await d.docker(['run', '--rm', '--ipc', 'container:cpb2_tick_1', 'busybox', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);

    ok(await compose('cpb1', file, ['down', '-t', '0']), 'down cpb1');
    assert.equal(ok(await d.docker(['ps', '-q', '--filter', 'label=com.docker.compose.project=cpb2']), 'ps cpb2').trim().split('\n').length, 3);
    assert.equal((await d.api('GET', '/networks/cpb-ext')).status, 200, 'an external network outlives down');

    // Foreground up attaches with prefixes; SIGINT stops the project (tick gets its stop_signal).
    const fg = spawn(COMPOSE, ['-p', 'cpb2', '-f', file, '--ansi', 'never', 'up'], { env: { ...process.env, DOCKER_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    fg.stdout.on('data', (b) => (out += b));
    fg.stderr.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => fg.on('close', (code) => r(code)));
    const kill = setTimeout(() => fg.kill('SIGKILL'), 30000);
    try {
      const deadline = Date.now() + 15000;
      while (!/tick_1 +\| tick \d+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /Attaching to /);
      fg.kill('SIGINT');
      assert.equal(await exited, 0, out);
    } finally {
      clearTimeout(kill);
    }
    assert.match(out, /Gracefully stopping/);
    const tick = (await d.api('GET', '/containers/cpb2_tick_1/json')).json();
    assert.equal(tick.State.Status, 'exited');
    assert.equal(tick.State.ExitCode, 0, 'tick trapped its SIGINT stop_signal');
  } finally {
    for (const proj of ['cpb1', 'cpb2']) await compose(proj, file, ['down', '-t', '0'], {}, 60000).catch(() => {});
    await d.docker(['network', 'rm', 'cpb-ext']).catch(() => {});
  }
});
