/**
 * A tiny fake Docker Engine API on a unix socket, for the CLI's end-to-end tests. It records
 * every request and simulates three programs: `echo ARGS` (prints, exits 0), `exit N`, and
 * `cat` (echoes attached stdin until EOF, then exits 0). Test support only.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { encodeFrame } from './stdio.js';

interface FakeContainer {
  id: string; name: string; image: string; cmd: string[]; tty: boolean; openStdin: boolean;
  status: 'created' | 'running' | 'exited'; exitCode: number; autoRemove: boolean;
  attached: Socket[]; waiters: Array<{ cond: string; res: http.ServerResponse }>;
  created: number; pending: string[]; stdinEOF: boolean;
}

export interface FakeDaemon {
  socketPath: string;
  log: string[];
  /** The API version in each request's path ('' for unversioned ones such as /_ping). */
  versions: string[];
  bodies: Record<string, unknown>;
  containers: Map<string, FakeContainer>;
  close(): Promise<void>;
}

/** maxApiVersion: refuse newer request paths as dockerd does ("client version … is too new"). */
export async function startFakeDaemon(socketPath: string, opts: { maxApiVersion?: string } = {}): Promise<FakeDaemon> {
  const maxApi = opts.maxApiVersion ?? '1.41';
  const versions: string[] = [];
  const log: string[] = [];
  const bodies: Record<string, unknown> = {};
  const containers = new Map<string, FakeContainer>();
  let seq = 0;
  const find = (ref: string) => [...containers.values()].find((c) => c.id === ref || c.name === ref || c.id.startsWith(ref));

  const exit = (c: FakeContainer, code: number) => {
    c.status = 'exited';
    c.exitCode = code;
    for (const s of c.attached) s.end();
    c.attached = [];
    if (c.autoRemove) containers.delete(c.id);
    for (const w of c.waiters) w.res.end(JSON.stringify({ StatusCode: code, Error: null }));
    c.waiters = [];
  };
  const write = (c: FakeContainer, data: string, stream = 1) => {
    for (const s of c.attached) s.write(c.tty ? Buffer.from(data) : encodeFrame(stream, data));
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v[\d.]+/, '');
    const version = /^\/v([\d.]+)\//.exec(url.pathname)?.[1];
    versions.push(version ?? '');
    // As dockerd: every answer names the server's API version.
    res.setHeader('Api-Version', maxApi);
    if (opts.maxApiVersion && version && version.localeCompare(maxApi, undefined, { numeric: true }) > 0) {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${maxApi}` }));
      return;
    }
    log.push(`${req.method} ${path}`);
    let raw = '';
    for await (const c of req) raw += c;
    const body = raw ? JSON.parse(raw) : undefined;
    const send = (status: number, obj?: unknown) => {
      res.writeHead(status, obj === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(obj === undefined ? undefined : JSON.stringify(obj));
    };
    let m: RegExpExecArray | null;
    if (path === '/_ping') { res.writeHead(200, { 'API-Version': '1.41', OSType: 'linux' }); res.end(req.method === 'HEAD' ? undefined : 'OK'); return; }
    if (path === '/containers/create' && req.method === 'POST') {
      bodies.create = body;
      if (body.Image === 'missing') { send(404, { message: 'No such image: missing:latest' }); return; }
      const id = (++seq).toString(16).padEnd(64, 'a');
      containers.set(id, {
        id, name: url.searchParams.get('name') ?? `c${seq}`, image: body.Image, cmd: body.Cmd ?? [], tty: !!body.Tty, openStdin: !!body.OpenStdin,
        status: 'created', exitCode: 0, autoRemove: !!body.HostConfig?.AutoRemove, attached: [], waiters: [], created: Math.floor(Date.now() / 1000) - 5, pending: [], stdinEOF: false,
      });
      send(201, { Id: id, Warnings: [] });
      return;
    }
    if (path === '/images/create') { send(404, { message: 'pull access denied for missing' }); return; }
    if (path === '/containers/json') {
      send(200, [...containers.values()].map((c) => ({
        Id: c.id, Names: ['/' + c.name], Image: c.image, Command: c.cmd.join(' '), Created: Math.floor(Date.now() / 1000) - 5, Ports: [], Labels: {},
        State: c.status, Status: c.status === 'running' ? 'Up 5 seconds' : `Exited (${c.exitCode}) 1 second ago`,
      })));
      return;
    }
    if ((m = /^\/containers\/([^/]+)\/(json|start|wait|resize|kill|stop|restart|pause|unpause|rename)$/.exec(path))) {
      const c = find(decodeURIComponent(m[1]!));
      if (!c) { send(404, { message: `No such container: ${m[1]}` }); return; }
      if (m[2] === 'json') { send(200, { Id: c.id, Name: '/' + c.name, Config: { Tty: c.tty, OpenStdin: c.openStdin }, State: { Status: c.status, Running: c.status === 'running' } }); return; }
      if (m[2] === 'wait') {
        // Headers at once, body on exit: as dockerd does.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        c.waiters.push({ cond: url.searchParams.get('condition') ?? 'not-running', res });
        return;
      }
      if (m[2] === 'start') {
        const [prog, ...args] = c.cmd;
        if (prog === '/nonexistent') { send(400, { message: 'failed to create task: exec: "/nonexistent": stat /nonexistent: no such file or directory' }); return; }
        c.status = 'running';
        send(204);
        setImmediate(() => {
          if (prog === 'echo') { write(c, args.join(' ') + '\n'); write(c, 'to-stderr\n', 2); exit(c, 0); }
          else if (prog === 'exit') exit(c, Number(args[0]));
          else if (prog === 'cat') { for (const p of c.pending) write(c, p); if (c.stdinEOF) exit(c, 0); }
        });
        return;
      }
      send(204);
      return;
    }
    send(404, { message: `page not found: ${path}` });
  });

  server.on('upgrade', (req, socket: Socket) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v[\d.]+/, '');
    log.push(`${req.method} ${path} (upgrade)`);
    const m = /^\/containers\/([^/]+)\/attach$/.exec(path);
    const c = m ? find(decodeURIComponent(m[1]!)) : undefined;
    if (!c) { socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{"message":"No such container"}'); return; }
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    c.attached.push(socket);
    if (url.searchParams.get('stdin') === '1') {
      // stdin that arrives before start is buffered, as a real container's stdin pipe would.
      socket.on('data', (d: Buffer) => { if (c.status === 'running') write(c, d.toString()); else c.pending.push(d.toString()); });
      // The client half-closed: EOF on the container's stdin; cat exits after its output.
      socket.on('end', () => {
        log.push('stdin EOF');
        if (c.cmd[0] !== 'cat') return;
        if (c.status === 'running') exit(c, 0); else c.stdinEOF = true;
      });
    }
  });

  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath, log, versions, bodies, containers,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
