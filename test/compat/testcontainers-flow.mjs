// testcontainers-node against the engine at DOCKER_HOST: a busybox GenericContainer
// with an exposed port and wait strategies, exec, copy in/out, network alias, stop.
// Ryuk (the reaper) needs the testcontainers/ryuk image, which an offline engine
// cannot pull, so run with TESTCONTAINERS_RYUK_DISABLED=true. Prints one JSON object.
import { GenericContainer, Network, Wait } from 'testcontainers';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const out = {};
const tmp = mkdtempSync(join(tmpdir(), 'tc-'));
writeFileSync(join(tmp, 'index.html'), 'hello from testcontainers\n');

function get(host, port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

let network;
let web;
let probe;
try {
  network = await new Network().start();
  web = await new GenericContainer('busybox:latest')
    .withExposedPorts(8080)
    .withNetwork(network)
    .withNetworkAliases('webby')
    .withEnvironment({ TC_VAR: 'tc-value' })
    .withCopyFilesToContainer([{ source: join(tmp, 'index.html'), target: '/www/index.html' }])
    .withCopyContentToContainer([{ content: 'inline-content\n', target: '/www/inline.txt' }])
    .withCommand(['sh', '-c', 'echo "server ready"; exec httpd -f -p 8080 -h /www'])
    .withWaitStrategy(Wait.forAll([Wait.forLogMessage('server ready'), Wait.forListeningPorts()]))
    .withStartupTimeout(20000)
    .start();
  out.mappedPort = web.getMappedPort(8080);
  out.host = web.getHost();
  out.http = await get(out.host, out.mappedPort, '/index.html');
  out.inline = await get(out.host, out.mappedPort, '/inline.txt');
  const ex = await web.exec(['sh', '-c', 'echo $TC_VAR; echo oops >&2; exit 3']);
  out.exec = { exitCode: ex.exitCode, stdout: ex.stdout, stderr: ex.stderr };
  const copied = await web.copyArchiveFromContainer('/www/index.html');
  const chunks = [];
  for await (const c of copied) chunks.push(c);
  out.copyOutBytes = Buffer.concat(chunks).length;
  out.copyOutHasFile = Buffer.concat(chunks).includes(Buffer.from('hello from testcontainers'));
  const logs = await web.logs();
  let logText = '';
  await new Promise((resolve) => {
    logs.on('data', (d) => { logText += d; if (logText.includes('server ready')) resolve(); });
    setTimeout(resolve, 3000);
  });
  logs.destroy();
  out.logs = logText.includes('server ready');
  // A second container reaches the first by its network alias.
  probe = await new GenericContainer('busybox:latest')
    .withNetwork(network)
    .withCommand(['sh', '-c', 'wget -qO- http://webby:8080/inline.txt; echo probe done; sleep 60'])
    .withWaitStrategy(Wait.forLogMessage('probe done'))
    .withStartupTimeout(20000)
    .start();
  const pl = await probe.logs();
  let probeText = '';
  await new Promise((resolve) => {
    pl.on('data', (d) => { probeText += d; if (probeText.includes('probe done')) resolve(); });
    setTimeout(resolve, 3000);
  });
  pl.destroy();
  out.alias = probeText.includes('inline-content');
  const stopped = await web.stop({ timeout: 1 });
  web = undefined;
  out.stopped = !!stopped;
  await probe.stop({ timeout: 0 });
  probe = undefined;
  await network.stop();
  network = undefined;
  out.ok = true;
} catch (err) {
  out.error = String(err?.stack ?? err);
} finally {
  await probe?.stop({ timeout: 0 }).catch(() => {});
  await web?.stop({ timeout: 0 }).catch(() => {});
  await network?.stop().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + '\n');
