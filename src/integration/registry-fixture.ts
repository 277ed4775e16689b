/**
 * A real registry for tests: Debian's docker-registry (the CNCF distribution server)
 * on 127.0.0.1 with a temp storage dir, optionally behind htpasswd basic auth. Killed
 * and removed by stop().
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
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

  /** tls: HTTPS with a self-signed certificate for 127.0.0.1 (made with openssl). */
  static async start(opts: { user?: string; password?: string; tls?: boolean } = {}): Promise<TestRegistry> {
    const dir = await mkdtemp('/tmp/berth-reg-');
    const port = await freePort();
    let auth = '';
    if (opts.user) {
      execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), opts.user, opts.password ?? ''], { stdio: 'ignore' });
      auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
    }
    if (opts.tls) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    }
    const tls = opts.tls ? `  tls:\n    certificate: ${join(dir, 'cert.pem')}\n    key: ${join(dir, 'key.pem')}\n` : '';
    const cfg = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'store')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: berth-test-secret\n${tls}${auth}`;
    await writeFile(join(dir, 'config.yml'), cfg);
    const proc = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const reg = new TestRegistry(dir, port, proc);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}`);
      try {
        if (opts.tls) {
          // Up once the TLS port takes connections (certificate checks are the client's business).
          const up = await new Promise<boolean>((res) => {
            const c = connect(port, '127.0.0.1', () => { c.destroy(); res(true); });
            c.on('error', () => res(false));
          });
          if (up) return reg;
        } else {
          const r = await fetch(`http://${reg.host}/v2/`);
          if (r.status === 200 || r.status === 401) return reg;
        }
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
