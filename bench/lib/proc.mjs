/**
 * Running commands with a deadline and a wall-clock measure, and the cleanup
 * helpers every bench shares (unmount under a dir, remove temp dirs on exit).
 */
import { spawn, execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** Run a command to completion; resolves with its exit code, output and wall time in ms. */
export function run(cmd, args, { env, timeoutMs = 60_000, input, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    p.stdout.on('data', (b) => out.push(b));
    p.stderr.on('data', (b) => err.push(b));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: no exit within ${timeoutMs} ms; stderr: ${Buffer.concat(err)}`));
    }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms });
    });
    if (input !== undefined) p.stdin.end(input);
  });
}

/** Like run, but a non-zero exit is an error carrying stderr. */
export async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join('; ')}`);
  return r;
}

export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Lazily unmount everything mounted at or below dir, deepest first. */
export async function unmountUnder(dir) {
  for (let pass = 0; pass < 3; pass++) {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    const points = info.split('\n').map((l) => l.split(' ')[4]).filter((p) => p && (p === dir || p.startsWith(dir + '/')));
    if (points.length === 0) return;
    for (const p of points.sort((a, b) => b.length - a.length)) await execFileP('umount', ['-l', p]).catch(() => {});
  }
}

/** Wait for a child process to exit, SIGKILL after graceMs. */
export function stopProcess(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

/**
 * Cleanup steps run once, in reverse order of registration, on normal end, on
 * an error, and on SIGINT/SIGTERM, so an interrupted bench leaves nothing behind.
 */
const steps = [];
let cleaning;
export function onCleanup(fn) { steps.push(fn); }
export function cleanup() {
  cleaning ??= (async () => {
    while (steps.length) {
      const fn = steps.pop();
      try { await fn(); } catch (e) { process.stderr.write(`cleanup: ${e.message}\n`); }
    }
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { process.stderr.write(`\n${sig}: cleaning up\n`); cleanup().finally(() => process.exit(130)); });
}

/** Run main, always clean up, exit non-zero on failure. */
export async function main(fn) {
  let failed = false;
  try { await fn(); } catch (e) { failed = true; process.stderr.write(`bench failed: ${e.stack ?? e}\n`); }
  await cleanup();
  process.exit(failed ? 1 : 0);
}

/** Simple flag parsing: --name value / --name=value / --flag. */
export function parseFlags(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    const [, key, inline] = m;
    if (!(key in defaults)) throw new Error(`unknown flag --${key}; known: ${Object.keys(defaults).join(', ')}`);
    if (typeof defaults[key] === 'boolean') out[key] = inline === undefined ? true : inline !== 'false';
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`--${key} needs a value`);
      out[key] = typeof defaults[key] === 'number' ? Number(v) : v;
      if (typeof defaults[key] === 'number' && !Number.isFinite(out[key])) throw new Error(`--${key}: not a number: ${v}`);
    }
  }
  return out;
}
