/**
 * Interactive terminals for real: berth and docker run under script(1), which gives them
 * a pseudo-terminal whose master side this test types into. Covers the shell prompt, the
 * PTY following the user's terminal size (a TIOCSWINSZ on the outer pty, so the CLI gets
 * SIGWINCH) and the API's resize, exit codes, and Ctrl-P Ctrl-Q detach then reattach.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { REPO, TestDaemon } from '../testing/daemon.js';

const execFileP = promisify(execFile);

/** A command running on the slave side of script(1)'s pty; we hold the master through pipes. */
class Pty {
  readonly proc: ChildProcess;
  #out = '';
  #waiters: Array<() => void> = [];
  readonly exited: Promise<number>;

  constructor(command: string, env: Record<string, string>, size = { rows: 30, cols: 100 }) {
    // The pty starts at 0x0 under a pipe; give it a size, and print its name so the test
    // can resize it from outside (stty -F) like a terminal emulator would.
    const inner = `echo PTY=$(tty); stty rows ${size.rows} cols ${size.cols}; exec ${command}`;
    this.proc = spawn('script', ['-qfec', inner, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const onData = (b: Buffer) => {
      this.#out += b.toString('latin1');
      for (const w of this.#waiters.splice(0)) w();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code ?? -1)));
  }

  get output(): string { return this.#out; }

  type(s: string): void { this.proc.stdin!.write(s); }

  /** Resolves with the first match of re in the output after `from`, or fails after ms. */
  async expect(re: RegExp, ms = 10_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.#out.slice(from).match(re);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; output so far: ${JSON.stringify(this.#out)}`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.#waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  /** Types a command and waits for a marker it prints, so later waits see fresh output. */
  async run(cmd: string, marker: string): Promise<string> {
    const from = this.#out.length;
    this.type(`${cmd}; echo ${marker}-$((1+1))\r`);
    const m = await this.expect(new RegExp(`([\\s\\S]*?)${marker}-2`), 10_000, from);
    return m[1]!;
  }

  async ptyName(): Promise<string> {
    return (await this.expect(/PTY=(\/dev\/pts\/\d+)/))[1]!;
  }

  async exit(ms = 10_000): Promise<number> {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([this.exited, new Promise<number>((_, rej) => { t = setTimeout(() => rej(new Error(`no exit; output: ${JSON.stringify(this.#out)}`)), ms); })]);
    } finally {
      clearTimeout(t);
    }
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

let d: TestDaemon;
const ptys: Pty[] = [];
const berthCmd = `${process.execPath} ${join(REPO, 'dist/berth-cli.mjs')}`;
const berth = (args: string) => { const p = new Pty(`${berthCmd} ${args}`, { BERTH_HOST: d.host }); ptys.push(p); return p; };
const docker = (args: string) => { const p = new Pty(`docker ${args}`, { DOCKER_HOST: d.host }); ptys.push(p); return p; };
const state = async (name: string) => (await d.api('GET', `/containers/${name}/json`)).json().State;

before(async () => { d = await TestDaemon.start(); });
after(async () => {
  for (const p of ptys) p.kill();
  await d?.stop();
});

test('berth run -it: a shell on a real pty that follows terminal resizes; exit code comes back', async () => {
  const p = berth('run -it --rm --name tty1 busybox sh');
  const pts = await p.ptyName();
  await p.expect(/\/ # /);
  assert.match(await p.run('tty', 'M1'), /\/dev\/pts\/\d+/);
  assert.match(await p.run('stty size', 'M2'), /30 100/, 'the container pty starts at the terminal size');
  // The user's terminal grows: the kernel sends the CLI SIGWINCH, the CLI resizes the container.
  await execFileP('stty', ['-F', pts, 'rows', '40', 'cols', '120']);
  await waitFor(async () => /40 120/.test(await p.run('stty size', `M${Math.random().toString(36).slice(2, 6)}`)), 5000, p);
  // The API resize reaches the same pty.
  assert.equal((await d.api('POST', '/containers/tty1/resize?h=20&w=70')).status, 200);
  assert.match(await p.run('stty size', 'M3'), /20 70/);
  assert.ok(!p.output.includes('\r\r\n'), 'local terminal output is raw (no doubled CR)');
  p.type('exit 7\r');
  assert.equal(await p.exit(), 7);
  assert.equal((await d.api('GET', '/containers/tty1/json')).status, 404, '--rm removed it');
});

test('Ctrl-P Ctrl-Q detaches (container keeps running) and berth attach reattaches', async () => {
  const p = berth('run -it --name tty2 busybox sh');
  await p.expect(/\/ # /);
  await p.run('echo first', 'A1');
  p.type('\x10\x11');
  assert.equal(await p.exit(), 0, 'detach ends the CLI with 0');
  const st = await state('tty2');
  assert.equal(st.Running, true, 'the container survives the detach');

  const a = berth('attach tty2');
  await a.ptyName();
  assert.match(await a.run('echo back', 'A2'), /back/, 'stdin still reaches the shell after reattaching');
  a.type('exit 3\r');
  assert.equal(await a.exit(), 3);
  assert.equal((await state('tty2')).ExitCode, 3);
});

test('berth exec -it: a shell in a running container with its own pty, sized and resizable', async () => {
  assert.equal((await d.berth(['run', '-d', '--name', 'tty3', 'busybox', 'sleep', '60'])).code, 0);
  const p = berth('exec -it tty3 sh');
  const pts = await p.ptyName();
  await p.expect(/\/ # /);
  assert.match(await p.run('stty size', 'E1'), /30 100/);
  await execFileP('stty', ['-F', pts, 'rows', '33', 'cols', '111']);
  await waitFor(async () => /33 111/.test(await p.run('stty size', `E${Math.random().toString(36).slice(2, 6)}`)), 5000, p);
  p.type('exit 5\r');
  assert.equal(await p.exit(), 5);
  assert.equal((await state('tty3')).Running, true, 'ending the exec leaves the container running');
});

test('Ctrl-P Ctrl-Q in exec -it and attach: detached with docker\'s "read escape sequence" and exit 1; the container keeps running', async () => {
  assert.equal((await d.berth(['run', '-dit', '--name', 'tty6', 'busybox', 'sh'])).code, 0);
  const e = berth('exec -it tty6 sh');
  await e.expect(/\/ # /);
  e.type('\x10\x11');
  assert.equal(await e.exit(), 1, 'an exec detach is an error for docker exec');
  assert.match(e.output, /read escape sequence/);
  const a = berth('attach tty6');
  await a.ptyName();
  assert.match(await a.run('echo still', 'A6'), /still/);
  a.type('\x10\x11');
  assert.equal(await a.exit(), 1);
  assert.match(a.output, /read escape sequence/);
  assert.equal((await state('tty6')).Running, true, 'the container survives both detaches');
  assert.equal((await d.berth(['rm', '-f', 'tty6'])).code, 0);
});

test('resizes that queue up at a busy conmon: the last one wins (conmon 2.1 reads only the first of a batch)', async () => {
  assert.equal((await d.berth(['run', '-dit', '--name', 'tty5', 'busybox', 'sh'])).code, 0);
  const id = (await d.api('GET', '/containers/tty5/json')).json<{ Id: string }>().Id;
  const size = async () => (await d.docker(['exec', 'tty5', 'stty', '-F', '/dev/console', 'size'])).stdout.trim();
  const conmon = Number(await readFile(join(d.dir, 'run', 'c', id, 'conmon.pid'), 'utf8'));
  // conmon stopped: the first line waits in its FIFO; the second must not join it there.
  process.kill(conmon, 'SIGSTOP');
  try {
    assert.equal((await d.api('POST', '/containers/tty5/resize?h=40&w=100')).status, 200);
    const second = d.api('POST', '/containers/tty5/resize?h=41&w=101');
    await new Promise((r) => setTimeout(r, 150));
    process.kill(conmon, 'SIGCONT');
    assert.equal((await second).status, 200);
  } finally {
    process.kill(conmon, 'SIGCONT');
  }
  await waitFor(async () => (await size()) === '41 101', 3000);
  assert.equal((await d.api('DELETE', '/containers/tty5?force=1')).status, 204);
});

test('docker run -it and docker exec -it against berthd', async () => {
  const p = docker('run -it --rm --name tty4 busybox sh');
  await p.expect(/\/ # /);
  assert.match(await p.run('stty size', 'D1'), /30 100/);
  const e = docker('exec -it tty4 sh -c "echo in-exec; exit 6"');
  await e.expect(/in-exec/);
  assert.equal(await e.exit(), 6);
  p.type('exit 4\r');
  assert.equal(await p.exit(), 4);
});

async function waitFor(check: () => Promise<boolean>, ms = 5000, p?: Pty): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    // The daemon's last words too: a resize that never arrives leaves its trace there, if anywhere.
    if (Date.now() > deadline) throw new Error(`condition not met in time${p ? `; output: ${JSON.stringify(p.output.slice(-600))}` : ''}; berthd: ${JSON.stringify(d.log.slice(-800))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
