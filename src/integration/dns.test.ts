/**
 * Embedded DNS end to end: containers on a user-defined network find each other by
 * name, alias and short id; other names go to an upstream of our own (a tiny DNS
 * server on a loopback address, given as --dns: never a real resolver); the default
 * bridge has no names; renames, connects and disconnects show at once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { execFileSync } from 'node:child_process';
import { TestDaemon } from '../testing/daemon.js';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const NET = `dns-${tag}`;
const NET2 = `dns2-${tag}`;
const UP = `127.0.53.${10 + (parseInt(tag.slice(0, 2), 16) % 200)}`;
let upstream: Socket;
const upstreamNames: string[] = [];

before(async () => {
  upstream = createSocket('udp4');
  // The "internet": one name known, NXDOMAIN for everything else.
  upstream.on('message', (m, r) => {
    try {
      const q = dnsPacket.decode(m);
      const name = q.questions?.[0]?.name ?? '';
      upstreamNames.push(name);
      const known = name === 'ext.berth.test' && q.questions?.[0]?.type === 'A';
      const answers = known ? [{ type: 'A' as const, name, ttl: 5, data: '192.0.2.55' }] : [];
      upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: name === 'ext.berth.test' ? 0 : 3, questions: q.questions, answers }), r.port, r.address);
    } catch { /* not DNS */ }
  });
  await new Promise<void>((res) => upstream.bind(53, UP, res));
  d = await TestDaemon.start();
  await ok(['network', 'create', NET]);
  await ok(['network', 'create', NET2]);
});

after(async () => {
  const ids = (await d?.docker(['ps', '-aq']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => {});
  await d?.docker(['network', 'rm', NET, NET2]).catch(() => {});
  await d?.stop();
  upstream?.close();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const runOn = (net: string, name: string, ...extra: string[]) =>
  ok(['run', '-d', '--name', name, '--network', net, '--dns', UP, ...extra, 'busybox', 'sh', '-c', `echo ${name} > /i; exec httpd -f -p 80 -h /`]);

test('by name, alias and short id; unknown names fail fast; other names forwarded; /etc files like docker', async () => {
  const id = (await runOn(NET, 'web', '--network-alias', 'www')).trim();
  const short = id.slice(0, 12);
  const out = await ok(['run', '--rm', '--network', NET, '--dns', UP, '--dns-search', 'corp.test', '--dns-option', 'timeout:1',
    '--add-host', 'gw.test:10.9.9.9', '--hostname', 'probe', '--domainname', 'lan.test', 'busybox', 'sh', '-c',
    `wget -qO- http://web/i && wget -qO- http://www/i && wget -qO- http://${short}/i && wget -qO- http://web.${NET}/i && ping -c1 -W2 www >/dev/null && echo ping-ok; ` +
    'nslookup ext.berth.test; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hosts; hostname'],
  );
  const [answers, resolv, hosts] = out.split('---\n');
  assert.equal(answers!.split('\n').slice(0, 5).join('\n'), 'web\nweb\nweb\nweb\nping-ok');
  assert.match(answers!, /Address: 192\.0\.2\.55/);
  // Docker's address: apps hard-code it (nginx `resolver 127.0.0.11`).
  assert.match(resolv!, /^nameserver 127\.0\.0\.11$/m);
  assert.equal((resolv!.match(/^nameserver/gm) ?? []).length, 1, 'the embedded server is the only nameserver');
  assert.match(resolv!, new RegExp(`# ExtServers: \\[${UP.replace(/\./g, '\\.')}\\]`));
  assert.match(resolv!, /^search corp\.test$/m);
  assert.match(resolv!, /^options timeout:1 ndots:0$/m);
  assert.match(hosts!, /^10\.9\.9\.9\tgw\.test$/m);
  assert.match(hosts!, /\tprobe\.lan\.test probe$/m);
  assert.ok(upstreamNames.includes('ext.berth.test'));
  // An unknown name: NXDOMAIN from upstream at once, no resolver timeout.
  let t = Date.now();
  const miss = await d.docker(['exec', 'web', 'ping', '-c1', '-W1', 'nosuch-name'], { timeout: 20000 });
  const missMs = Date.now() - t;
  assert.notEqual(miss.code, 0);
  assert.match(miss.stderr, /bad address/);
  t = Date.now();
  await ok(['exec', 'web', 'true']);
  const execMs = Date.now() - t;
  assert.ok(missMs - execMs < 1500, `unknown name took ${missMs} ms (exec alone ${execMs} ms)`);
  console.log(`# unknown name fails in ${missMs} ms (a bare exec takes ${execMs} ms)`);
});

test('127.0.0.11 answers over UDP and TCP; loopback guarded against neighbours', async () => {
  const ip = (await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, 'web'])).trim();
  // A raw DNS query over TCP (2-byte length 21, id 0x1234, RD, one question "web" A): busybox's
  // nslookup speaks UDP only. The answer's last 4 bytes are web's address.
  const q = '\\000\\025\\022\\064\\001\\000\\000\\001\\000\\000\\000\\000\\000\\000\\003web\\000\\000\\001\\000\\001';
  const out = await ok(['run', '--rm', '--network', NET, '--dns', UP, 'busybox', 'sh', '-c',
    `nslookup web 127.0.0.11 | tail -n +3; printf '${q}' | nc -w 2 127.0.0.11 53 | od -An -tu1 -v | tr -s ' \\n' ' '`]);
  assert.match(out, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`), out);
  assert.match(out.trim(), new RegExp(`${ip.split('.').join(' ')}$`), `TCP answer: ${out}`);
  // route_localnet is on inside the netns (for the redirect): packets for 127/8 that did not
  // come in on lo are dropped before NAT, so neighbours cannot reach the container's loopback.
  const key = (await ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'web'])).trim();
  const table = execFileSync('nsenter', [`--net=${key}`, 'nft', 'list', 'table', 'ip', 'berth_dns'], { encoding: 'utf8' });
  assert.match(table, /iifname != "lo" ip daddr 127\.0\.0\.0\/8 drop/);
});

test('the default bridge has no name resolution between containers', async () => {
  await ok(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '300']);
  const gw = (await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge'])).trim();
  // --dns UP: the container's own loopback, nothing there; the host's real resolver is never asked.
  const r = await d.docker(['run', '--rm', '--dns', UP, 'busybox', 'sh', '-c', `cat /etc/resolv.conf; grep -c plain /etc/hosts; nslookup plain ${gw}; echo rc=$?`], { timeout: 20000 });
  assert.doesNotMatch(r.stdout, new RegExp(`nameserver ${gw.replace(/\./g, '\\.')}`));
  assert.match(r.stdout, /^0$/m, 'no other container in /etc/hosts');
  assert.match(r.stdout, /rc=1/, 'nothing answers on the default bridge gateway');
  assert.doesNotMatch(r.stdout, /Name:\s+plain/);
  await ok(['rm', '-f', 'plain']);
});

test('names follow rename, connect, disconnect and rm; connecting a stopped container counts at its next start', async () => {
  await runOn(NET, 'asker');
  const can = async (name: string) => {
    const r = await d.docker(['exec', 'asker', 'ping', '-c1', '-W2', name], { timeout: 20000 });
    if (process.env.BERTH_TEST_DEBUG) console.log(`# ping ${name}: ${r.code} ${r.stdout} ${r.stderr}`);
    return r.code === 0;
  };
  await runOn(NET, 'before');
  assert.ok(await can('before'));
  await ok(['rename', 'before', 'after']);
  assert.ok(await can('after'));
  assert.ok(!(await can('before')));
  // A container on another network: unreachable by name until connected, again after disconnect.
  await runOn(NET2, 'other');
  assert.ok(!(await can('other')));
  await ok(['network', 'connect', '--alias', 'oth', NET, 'other']);
  assert.ok(await can('oth'));
  await ok(['network', 'disconnect', NET, 'other']);
  assert.ok(!(await can('oth')));
  // Stopped: recorded, shown in inspect, wired at start.
  await ok(['create', '--name', 'later', '--network', NET2, '--dns', UP, 'busybox', 'sleep', '300']);
  await ok(['network', 'connect', '--alias', 'late', NET, 'later']);
  const nets = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'later']));
  assert.deepEqual(Object.keys(nets).sort(), [NET, NET2].sort());
  assert.deepEqual(nets[NET].Aliases, ['late']);
  await ok(['start', 'later']);
  assert.ok(await can('late'));
  await ok(['rm', '-f', 'after', 'later', 'other']);
  assert.ok(!(await can('late')));
});

test('20 containers on one network all resolve each other by name', async () => {
  const N = 20;
  const names = Array.from({ length: N }, (_, i) => `m${i}`);
  const t0 = Date.now();
  // Each container pings every other by name until all answer, then says so.
  const script = `for n in ${names.join(' ')}; do until ping -c1 -W1 $n >/dev/null 2>&1; do sleep 0.2; done; done; echo resolved-all; exec sleep 300`;
  for (let i = 0; i < N; i += 4) {
    await Promise.all(names.slice(i, i + 4).map((n) => ok(['run', '-d', '--name', n, '--network', NET, '--dns', UP, 'busybox', 'sh', '-c', script])));
  }
  const started = Date.now() - t0;
  const deadline = Date.now() + 60000;
  let done: string[] = [];
  while (Date.now() < deadline) {
    done = [];
    for (const n of names) if ((await d.docker(['logs', n])).stdout.includes('resolved-all')) done.push(n);
    if (done.length === N) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(done.length, N, `only ${done.join(',')} resolved everyone`);
  console.log(`# ${N} containers: started in ${started} ms, all ${N * N} name lookups done ${Date.now() - t0} ms after the first start`);
  await ok(['rm', '-f', ...names]);
});
