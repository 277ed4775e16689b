/**
 * A real registry for tests: Debian's docker-registry (the CNCF distribution server)
 * on 127.0.0.1 with a temp storage dir, optionally behind htpasswd basic auth. Killed
 * and removed by stop().
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export class TestRegistry {
  private constructor(readonly dir: string, readonly port: number, private proc: ChildProcess) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
    const dir = await mkdtemp('/tmp/berth-reg-');
    const port = await freePort();
    let auth = '';
    if (opts.user) {
      execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), opts.user, opts.password ?? ''], { stdio: 'ignore' });
      auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
    }
    const cfg = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'store')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: berth-test-secret\n${auth}`;
    await writeFile(join(dir, 'config.yml'), cfg);
    const proc = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const reg = new TestRegistry(dir, port, proc);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}`);
      try {
        const r = await fetch(`http://${reg.host}/v2/`);
        if (r.status === 200 || r.status === 401) return reg;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    await reg.stop();
    throw new Error('docker-registry did not come up');
  }

  /** A raw registry API call (for crafting images and checking what was stored). */
  async api(method: string, path: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> {
    return fetch(`http://${this.host}${path}`, { method, body: init.body as unknown as BodyInit, headers: init.headers });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
