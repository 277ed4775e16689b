/**
 * Networking across trouble: docker starting after berthd (FORWARD policy flipped to
 * DROP while berthd runs), and berthd killed with SIGKILL then restarted (leases and
 * rules of running containers kept, those of vanished ones reclaimed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { TestDaemon } from '../testing/daemon.js';
import { freeOctet, ownerTag, startMachine, sweepStale, type Machine } from '../testing/netns.js';

let d: TestDaemon;
const tag = ownerTag(); // the owner's pid: a suite beside this one does not sweep it
const EXT = `bt-rx-${tag}`;
const HVETH = `br${tag}`;
sweepStale('bt-rx', 'br');
const octet = freeOctet(78, 150, 190);
const HOST_IP = `10.${octet}.78.1`;
const EXT_IP = `10.${octet}.78.2`;
const NET = `rec-${tag}`;
let machine: Machine | undefined;
let forwardBefore = '';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
const inExt = (args: string[]) => machine!.exec(args);
// busybox's wget -T segfaults in this image: timeouts come from busybox's timeout applet.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  forwardBefore = sh('iptables', ['-S', 'FORWARD']);
  d = await TestDaemon.start();
  // Another machine, reachable from containers only through the FORWARD hook and NAT.
  machine = await startMachine({ ns: EXT, hostVeth: HVETH, hostIp: HOST_IP, extIp: EXT_IP, reply: "'pong'" });
});

after(async () => {
  // Other suites may run beside this one: put the policy back as it was.
  try { sh('iptables', ['-P', 'FORWARD', /^-P FORWARD DROP/m.test(forwardBefore) ? 'DROP' : 'ACCEPT']); } catch { /* no iptables */ }
  const ids = (await d?.docker(['ps', '-aq']))?.stdout.trim().split('\n').filter(Boolean) ?? [];
  if (ids.length) await d.docker(['rm', '-f', ...ids]).catch(() => {});
  await d?.docker(['network', 'rm', NET]).catch(() => {});
  await d?.stop();
  machine?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeout: 30000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const bridgeOf = (dir: string) => `berth-${createHash('sha256').update(`${dir}/run`).digest('hex').slice(0, 6)}`;

function dropOurForwardRules(bridge: string): void {
  for (const dir of ['-i', '-o']) {
    for (;;) {
      try { sh('iptables', ['-w', '-D', 'FORWARD', dir, bridge, '-m', 'comment', '--comment', 'berth', '-j', 'ACCEPT']); } catch { break; }
    }
  }
}

test('docker starting later flips FORWARD to DROP: running and new containers keep egress', async () => {
  const bridge = bridgeOf(d.dir);
  sh('iptables', ['-P', 'FORWARD', 'ACCEPT']);
  dropOurForwardRules(bridge);
  await ok(['run', '-d', '--name', 'fwd', 'busybox', 'sleep', '300']);
  assert.equal(await ok(['exec', 'fwd', 'timeout', '2', 'wget', '-qO-', `http://${EXT_IP}:9000/`]), 'pong');
  // What dockerd does at its start, while berthd runs.
  sh('iptables', ['-P', 'FORWARD', 'DROP']);
  const t0 = Date.now();
  let back = false;
  while (!back && Date.now() - t0 < 8000) {
    back = (await d.docker(['exec', 'fwd', 'timeout', '1', 'wget', '-qO-', `http://${EXT_IP}:9000/`], { timeout: 10000 })).stdout === 'pong';
    if (!back) await sleep(200);
  }
  assert.ok(back, 'egress of a running container came back after the policy flip');
  console.log(`# running container's egress back ${Date.now() - t0} ms after FORWARD DROP`);
  // A new container checks at its start: works at once, even with the rules gone again.
  dropOurForwardRules(bridge);
  assert.equal(await ok(['run', '--rm', 'busybox', 'timeout', '2', 'wget', '-qO-', `http://${EXT_IP}:9000/`]), 'pong');
  assert.match(sh('iptables', ['-S', 'FORWARD']), new RegExp(`-i ${bridge} .*--comment berth -j ACCEPT`));
  await ok(['rm', '-f', 'fwd']);
});

test('after SIGKILL and restart: running containers keep leases, ports, names; vanished ones are reclaimed', async () => {
  const bridge = bridgeOf(d.dir);
  const table = bridge.replace('berth-', 'berth_');
  await ok(['network', 'create', NET]);
  await ok(['run', '-d', '--name', 'keep', '--network', NET, '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'echo kept > /i; exec httpd -f -p 80 -h /']);
  await ok(['run', '-d', '--name', 'gone', '--network', NET, '-p', '127.0.0.1::80', 'busybox', 'sleep', '300']);
  const info = (n: string) => ok(['inspect', '-f', `{{.Id}} {{.State.Pid}} {{(index .NetworkSettings.Networks "${NET}").IPAddress}} {{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}} {{.NetworkSettings.SandboxKey}}`, n]).then((s) => s.trim().split(' '));
  const [, , keepIp, keepPort, keepKey] = await info('keep');
  const [goneId, gonePid, goneIp, gonePort, goneKey] = await info('gone');
  const netId = (await ok(['network', 'inspect', '-f', '{{.Id}}', NET])).trim();
  const goneVeth = `veth${createHash('sha256').update(goneId! + netId).digest('hex').slice(0, 7)}`;
  assert.ok(sh('ip', ['-o', 'link']).includes(goneVeth));

  await d.kill('SIGKILL');
  // While berthd is down: one container dies, and a stray netns appears (a crash mid-setup).
  process.kill(Number(gonePid), 'SIGKILL');
  const stray = `${d.dir}/run/netns/stray0000000`;
  writeFileSync(stray, '');
  sh('unshare', [`--net=${stray}`, 'true']);
  await d.launch();

  const [, , keepIp2, keepPort2, keepKey2] = await info('keep');
  assert.deepEqual([keepIp2, keepPort2, keepKey2], [keepIp, keepPort, keepKey], 'the running container keeps its lease, port and netns');
  assert.equal(sh('wget', ['-qO-', '-T', '3', `http://127.0.0.1:${keepPort}/i`]), 'kept\n');
  assert.match(await ok(['run', '--rm', '--network', NET, 'busybox', 'nslookup', 'keep', '127.0.0.11']), new RegExp(`Address: ${keepIp!.replace(/\./g, '\\.')}`));
  // The dead one's netns, veth, published port and lease are gone; so is the stray netns.
  assert.equal((await ok(['inspect', '-f', '{{.State.Running}}', 'gone'])).trim(), 'false');
  assert.ok(!existsSync(goneKey!), 'netns file of the dead container removed');
  assert.ok(!existsSync(stray), 'stray netns removed');
  // The kernel destroys a removed namespace, and the veth in it, asynchronously.
  for (let i = 0; i < 40 && sh('ip', ['-o', 'link']).includes(goneVeth); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!sh('ip', ['-o', 'link']).includes(goneVeth), 'veth of the dead container removed');
  const nft = sh('nft', ['list', 'table', 'ip', table]);
  assert.ok(nft.includes(`tcp . ${keepPort} :`) || nft.includes(`. ${keepPort} :`), 'the live port rule is kept');
  assert.ok(!nft.includes(`. ${gonePort} :`), 'the dead port rule is gone');
  assert.match(await ok(['run', '--rm', '--network', NET, '--ip', goneIp!, 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']), new RegExp(goneIp!.replace(/\./g, '\\.')));
  await ok(['rm', '-f', 'keep', 'gone']);
  await ok(['network', 'rm', NET]);
});

test('FORWARD accept rules of vanished bridges (berthds killed on other exec roots) are swept at start and at network rm; others stay', async () => {
  const live = bridgeOf(d.dir);
  const ghost = `bfg${tag}`;
  const foreign = `bfn${tag}`;
  const rule = (dir: string, dev: string, comment = 'berth') => ['FORWARD', dir, dev, '-m', 'comment', '--comment', comment, '-j', 'ACCEPT'];
  const has = (dir: string, dev: string, comment = 'berth') => {
    try { sh('iptables', ['-w', '-C', ...rule(dir, dev, comment)]); return true; } catch { return false; }
  };
  const added: string[][] = [];
  const add = (dir: string, dev: string, comment = 'berth') => { sh('iptables', ['-w', '-A', ...rule(dir, dev, comment)]); added.push(rule(dir, dev, comment)); };
  try {
    // A leftover of a killed berthd (its bridge is gone), a live berthd's rule (its bridge
    // exists), and someone else's rule for a missing interface.
    add('-i', ghost);
    add('-o', ghost);
    add('-o', live);
    add('-o', foreign, 'not-berth');
    await d.kill('SIGKILL');
    await d.launch();
    assert.ok(!has('-i', ghost) && !has('-o', ghost), 'the vanished bridge\'s rules are swept at start');
    assert.ok(has('-o', live), 'a rule of an existing bridge stays');
    assert.ok(has('-o', foreign, 'not-berth'), 'a rule without berth\'s comment stays');
    // Left behind while berthd runs: swept by the next network rm.
    add('-o', ghost);
    await ok(['network', 'create', `${NET}-sw`]);
    await ok(['network', 'rm', `${NET}-sw`]);
    assert.ok(!has('-o', ghost), 'swept at network rm');
    assert.ok(has('-o', live) && has('-o', foreign, 'not-berth'));
  } finally {
    for (const r of added) for (let i = 0; i < 5; i++) { try { sh('iptables', ['-w', '-D', ...r]); } catch { break; } }
  }
});
