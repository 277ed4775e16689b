#!/usr/bin/env node
// Writes a minimal busybox rootfs tar to stdout, built from the host's static
// /bin/busybox, so `busybox:latest` can be made offline:
//   node scripts/busybox-rootfs.mjs | berth import --change 'CMD ["sh"]' - busybox:latest
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

const BUSYBOX = process.env.BUSYBOX ?? '/bin/busybox';
const mtime = new Date(statSync(BUSYBOX).mtimeMs);
const pack = tar.pack();
// A reader that stops early (| head) is not an error worth a stack trace.
process.stdout.on('error', (err) => process.exit(err.code === 'EPIPE' ? 0 : 1));
const out = pipeline(pack, process.stdout);

function add(header, body) {
  return new Promise((resolve, reject) => {
    const h = { uid: 0, gid: 0, mtime, ...header };
    const cb = (err) => (err ? reject(err) : resolve());
    if (body !== undefined) pack.entry(h, body, cb);
    else pack.entry(h, cb);
  });
}

const dirs = [
  ['bin', 0o755], ['sbin', 0o755], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755],
  ['etc', 0o755], ['root', 0o700], ['tmp', 0o1777], ['home', 0o755], ['var', 0o755],
  ['var/spool', 0o755], ['var/spool/mail', 0o755], ['var/www', 0o755],
  ['proc', 0o755], ['sys', 0o755], ['dev', 0o755],
];
for (const [name, mode] of dirs) await add({ name: name + '/', type: 'directory', mode });

// The binary itself, streamed rather than read whole.
const size = statSync(BUSYBOX).size;
await new Promise((resolve, reject) => {
  const entry = pack.entry({ name: 'bin/busybox', type: 'file', mode: 0o755, size, uid: 0, gid: 0, mtime }, (err) => (err ? reject(err) : resolve()));
  pipeline(createReadStream(BUSYBOX), entry).catch(reject);
});

// One link per applet, where busybox says it lives; bin/ applets point at busybox
// directly, others relatively, as busybox --install -s would.
const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const seen = new Set(['bin/busybox']);
for (const path of applets.sort()) {
  const name = path.replace(/^\/+/, '');
  if (seen.has(name) || !/^(bin|sbin|usr\/bin|usr\/sbin)\/[^/]+$/.test(name)) continue;
  seen.add(name);
  const depth = name.split('/').length - 1;
  const linkname = depth === 1 ? (name.startsWith('bin/') ? 'busybox' : '../bin/busybox') : '../../bin/busybox';
  await add({ name, type: 'symlink', linkname, mode: 0o777 });
}

await add({ name: 'etc/passwd', type: 'file', mode: 0o644 },
  'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
await add({ name: 'etc/group', type: 'file', mode: 0o644 },
  'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n');
await add({ name: 'etc/shadow', type: 'file', mode: 0o600 }, 'root:*:10933:0:99999:7:::\ndaemon:*:10933:0:99999:7:::\nnobody:*:10933:0:99999:7:::\n');

pack.finalize();
await out;
