/** Starts the api server on a private unix socket with fake services, and a tiny client. */
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../events/bus.js';
import { createApiServer } from '../server.js';
import type { ApiDeps } from '../types.js';
import { FakeContainers } from './fake-containers.js';
import { FakeImages, FakeVolumes } from './fake-images.js';

export interface Harness {
  sock: string;
  server: http.Server;
  containers: FakeContainers;
  images: FakeImages;
  volumes: FakeVolumes;
  events: EventBus;
  deps: ApiDeps;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  const sock = join(dir, 'd.sock');
  const containers = new FakeContainers();
  const images = new FakeImages();
  const volumes = new FakeVolumes();
  const events = new EventBus();
  const deps: ApiDeps = {
    containers, images, volumes, events,
    system: {
      version: () => ({ Version: '0.1.0', GitCommit: 'abc1234', BuildTime: '2024-01-01T00:00:00Z', KernelVersion: '6.1.0' }),
      info: async () => ({ ID: 'berth', OSType: 'linux', Architecture: 'x86_64', NCPU: 2, MemTotal: 1 << 30, Containers: containers.records.size, ServerVersion: '0.1.0', Name: 'test', Swarm: { LocalNodeState: 'inactive' } }),
    },
  };
  const server = createApiServer(deps);
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return {
    sock, server, containers, images, volumes, events, deps,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function request(sock: string, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A raw connection: write bytes, collect everything the server sends. */
export function rawConnect(sock: string): Promise<{ socket: net.Socket; received: () => Buffer; waitFor: (pred: (b: Buffer) => boolean, ms?: number) => Promise<Buffer>; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(sock);
    const chunks: Buffer[] = [];
    const listeners = new Set<() => void>();
    let endResolve!: () => void;
    const ended = new Promise<void>((r) => { endResolve = r; });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      for (const l of [...listeners]) l();
    });
    socket.on('end', () => {
      endResolve();
      for (const l of [...listeners]) l();
    });
    socket.on('close', () => endResolve());
    socket.on('error', reject);
    const received = () => Buffer.concat(chunks);
    const waitFor = (pred: (b: Buffer) => boolean, ms = 3000) => new Promise<Buffer>((res, rej) => {
      if (pred(received())) return res(received());
      const t = setTimeout(() => { listeners.delete(check); rej(new Error(`timeout; got ${JSON.stringify(received().toString())}`)); }, ms);
      const check = () => {
        if (pred(received())) { clearTimeout(t); listeners.delete(check); res(received()); }
      };
      listeners.add(check);
    });
    socket.on('connect', () => resolve({ socket, received, waitFor, ended }));
  });
}

export function tick(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
