/**
 * A private berthd for integration tests: its own data root, exec root and socket
 * under a short temp dir, the busybox image imported through the API, and a clean
 * teardown (containers removed, daemon stopped, mounts gone, dirs removed).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileP = promisify(execFile);
export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = any>(): T;
}

export class TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly host: string;
  #proc: ChildProcess | undefined;
  #log: Buffer[] = [];

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'run', 'berth.sock');
    this.host = `unix://${this.socket}`;
  }

  static async start(opts: { busybox?: boolean } = {}): Promise<TestDaemon> {
    const d = new TestDaemon(await mkdtemp('/tmp/bt-'));
    try {
      await writeFile(join(d.dir, 'daemon.json'), '{}\n');
      await d.launch();
      if (opts.busybox !== false) await d.importBusybox();
    } catch (err) {
      // A daemon that never came up must not leave its directory behind either.
      await d.stop().catch(() => {});
      throw err;
    }
    return d;
  }

  get log(): string {
    return Buffer.concat(this.#log).toString();
  }

  /**
   * What a failed request may not leave: containers, volumes and container dirs, as one
   * comparable line. A removed container's dir is renamed aside and deleted in the
   * background: it must be gone within moments, and is not counted before that.
   */
  async leftovers(): Promise<string> {
    const cs = (await this.api('GET', '/containers/json?all=1')).json<unknown[]>().length;
    const vs = (await this.api('GET', '/volumes')).json<{ Volumes: unknown[] }>().Volumes.length;
    const list = async () => readdir(join(this.dir, 'data', 'containers')).catch(() => [] as string[]);
    for (let i = 0; i < 100 && (await list()).some((n) => n.startsWith('.trash-')); i++) await new Promise((r) => setTimeout(r, 20));
    return `containers=${cs} volumes=${vs} dirs=${(await list()).length}`;
  }

  async launch(): Promise<void> {
    const p = spawn(process.execPath, [join(REPO, 'dist/daemon/main.js'), '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'run'), '-H', this.host, '--config-file', join(this.dir, 'daemon.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, UV_THREADPOOL_SIZE: '64' },
    });
    p.stdout!.on('data', (b) => this.#log.push(b));
    p.stderr!.on('data', (b) => this.#log.push(b));
    this.#proc = p;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`berthd exited: ${this.log}`);
      if (existsSync(this.socket)) {
        try {
          const r = await this.api('GET', '/_ping');
          if (r.status === 200) return;
        } catch { /* not yet */ }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not come up: ${this.log}`);
  }

  /** Stop berthd like a crash (SIGKILL) or politely (SIGTERM); containers keep running. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.#proc;
    // Already gone, also by a signal (a crash hook's SIGKILL leaves exitCode null): an
    // 'exit' listener added now would wait forever.
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return new Promise((resolvePromise, reject) => {
      const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const req = request({ socketPath: this.socket, method, path, headers: { ...(data && !Buffer.isBuffer(body) ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolvePromise({ status: res.statusCode!, headers: res.headers, body: b, json: () => JSON.parse(b.toString()) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(60000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(data);
    });
  }

  async importBusybox(ref = 'busybox:latest'): Promise<void> {
    const { stdout } = await execFileP(process.execPath, [join(REPO, 'scripts/busybox-rootfs.mjs')], { encoding: 'buffer', maxBuffer: 64 << 20 });
    const [repo, tag] = ref.split(':');
    const changes = encodeURIComponent('CMD ["sh"]');
    const r = await this.api('POST', `/images/create?fromSrc=-&repo=${repo}&tag=${tag}&changes=${changes}`, stdout, { 'Content-Type': 'application/x-tar' });
    if (r.status !== 200) throw new Error(`import failed: ${r.status} ${r.body}`);
  }

  /** Run the docker CLI against this daemon. */
  docker(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return run('docker', args, { DOCKER_HOST: this.host }, opts);
  }

  /** Run berth's own CLI against this daemon. */
  berth(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, [join(REPO, 'dist/berth-cli.mjs'), ...args], { BERTH_HOST: this.host }, opts);
  }

  async stop(): Promise<void> {
    try {
      if (this.#proc && this.#proc.exitCode === null) {
        const list = await this.api('GET', '/containers/json?all=1').catch(() => undefined);
        for (const c of list?.status === 200 ? list.json<Array<{ Id: string }>>() : []) {
          await this.api('DELETE', `/containers/${c.Id}?force=1&v=1`).catch(() => {});
        }
      }
    } finally {
      await this.kill('SIGTERM');
      await removeDaemonNetworking(this.dir);
      await unmountUnder(this.dir);
      await rm(this.dir, { recursive: true, force: true }).catch(() => {});
    }
  }
}

/**
 * berthd keeps its bridges when it stops (as dockerd keeps docker0): a test daemon's go
 * with its directory, as does its nft table (left when it was killed with containers).
 * `dir` holds the daemon's `run` (exec root) and `data` (data root); bench/ uses it too.
 */
export async function removeDaemonNetworking(dir: string): Promise<void> {
  const tag = createHash('sha256').update(join(dir, 'run')).digest('hex').slice(0, 6);
  const bridges = new Set([`berth-${tag}`]);
  try {
    const st = JSON.parse(await readFile(join(dir, 'data', 'network', 'state.json'), 'utf8')) as { networks?: Array<{ bridge?: string; adoptedBridge?: unknown }>; reclaim?: string[] };
    for (const n of st.networks ?? []) if (n.bridge && !n.adoptedBridge) bridges.add(n.bridge);
    for (const b of st.reclaim ?? []) bridges.add(b);
  } catch { /* never started */ }
  for (const b of bridges) if (existsSync(`/sys/class/net/${b}`)) await execFileP('ip', ['link', 'del', b]).catch(() => {});
  await execFileP('nft', ['delete', 'table', 'ip', `berth_${tag}`]).catch(() => {});
}

async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => !!p && p.startsWith(dir + '/'));
  for (const p of points.sort((a, b) => b.length - a.length)) {
    await execFileP('umount', ['-l', p]).catch(() => {});
  }
}

export function run(cmd: string, args: string[], env: Record<string, string>, opts: { input?: string; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b) => out.push(b));
    p.stderr.on('data', (b) => err.push(b));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stderr: ${Buffer.concat(err)}`));
    }, opts.timeout ?? 30000);
    p.on('error', reject);
    // A command that exits before reading its stdin must not crash the test with EPIPE.
    p.stdin.on('error', () => {});
    p.on('close', (code) => {
      clearTimeout(t);
      resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** The client scripts (test/compat) print one JSON object as their last line. */
export function lastJson(stdout: string): any {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}
