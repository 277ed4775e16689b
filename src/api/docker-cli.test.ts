/**
 * The real docker CLI against the api with fake services: negotiation, tables,
 * the inspect type walk, hijacked exec. Skipped when the CLI is not installed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from './testing/harness.js';

const DOCKER = '/usr/local/bin/docker';

describe('docker CLI against berth api', { skip: !existsSync(DOCKER) && 'docker CLI not installed' }, () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  // The server runs in this process: the CLI must run asynchronously.
  const docker = (...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const p = execFile(DOCKER, args, { env, encoding: 'utf8', timeout: 15000 }, (e, out, err) => resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }));
    p.stdin?.end();
  });
  before(async () => {
    h = await startHarness();
    env = { ...process.env, DOCKER_HOST: `unix://${h.sock}`, DOCKER_CONFIG: mkdtempSync(join(tmpdir(), 'dcfg-')), DOCKER_CONTEXT: '' };
    delete env.DOCKER_CONTEXT;
  });
  after(async () => {
    rmSync(env.DOCKER_CONFIG!, { recursive: true, force: true });
    await h.close();
  });

  it('docker version negotiates 1.47', async () => {
    const r = await docker('version', '--format', '{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), '1.47 1.47 1.24');
  });

  it('docker inspect of an unknown name walks every type and says No such object', async () => {
    const r = await docker('inspect', 'x');
    assert.equal(r.code, 1);
    assert.match(r.err, /No such object: x/);
  });

  it('create, ps with label filter, inspect, start, exec, stop, rm', async () => {
    let r = await docker('create', '--name', 'c1', '-l', 'a=b', 'busybox', 'echo', 'hi there');
    assert.equal(r.code, 0, r.err);
    r = await docker('ps', '-a', '--filter', 'label=a=b', '--format', '{{.Names}}|{{.Command}}|{{.Status}}');
    assert.equal(r.out.trim(), 'c1|"echo \'hi there\'"|Created');
    r = await docker('inspect', '-f', '{{.Name}} {{.State.Status}}', 'c1');
    assert.equal(r.out.trim(), '/c1 created');
    assert.equal((await docker('start', 'c1')).code, 0);
    r = await docker('exec', 'c1', '/nope');
    assert.equal(r.code, 126);
    assert.match(r.err + r.out, /no such file or directory/);
    assert.equal((await docker('stop', 'c1')).code, 0);
    assert.equal((await docker('rm', 'c1')).code, 0);
    r = await docker('rm', 'c1');
    assert.equal(r.code, 1);
    assert.match(r.err, /No such container: c1/);
  });

  it('docker run of a missing image reports the pull limitation', async () => {
    const r = await docker('run', '--rm', 'missing');
    assert.equal(r.code, 125);
    assert.match(r.err, /no registry client/);
  });
});
