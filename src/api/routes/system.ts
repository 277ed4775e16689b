/** System endpoints: ping, version, info, and the answers to things berth has no part of (swarm, plugins). */
import { arch as hostArch } from 'node:os';
import type { Router, Ctx } from '../router.js';
import { API_VERSION, MIN_API_VERSION, sendJson } from '../http-util.js';
import type { VersionResponse } from '../types.js';
import { notFound, unavailable } from '../../common/errors.js';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function ping(ctx: Ctx): void {
  const { res, req } = ctx;
  res.writeHead(200, {
    'API-Version': API_VERSION,
    OSType: 'linux',
    'Docker-Experimental': 'false',
    'Builder-Version': '1',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': '2',
  });
  res.end(req.method === 'HEAD' ? undefined : 'OK');
}

export function versionResponse(ctx: Ctx): VersionResponse {
  const v = ctx.deps.system.version();
  const os = v.Os ?? 'linux';
  const arch = v.Arch ?? GO_ARCH[hostArch()] ?? hostArch();
  return {
    Platform: { Name: 'berth' },
    Components: [{
      Name: 'Engine',
      Version: v.Version,
      Details: {
        ApiVersion: API_VERSION, Arch: arch, BuildTime: v.BuildTime, Experimental: 'false', GitCommit: v.GitCommit,
        GoVersion: `node${process.versions.node}`, KernelVersion: v.KernelVersion, MinAPIVersion: MIN_API_VERSION, Os: os,
      },
    }],
    Version: v.Version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: v.GitCommit,
    // Clients print it; berth runs on node, and says so rather than pretend.
    GoVersion: `node${process.versions.node}`,
    Os: os,
    Arch: arch,
    KernelVersion: v.KernelVersion,
    BuildTime: v.BuildTime,
  };
}

export function registerSystem(r: Router): void {
  r.add('GET', '/_ping', ping);
  r.add('HEAD', '/_ping', ping);
  r.add('GET', '/version', (ctx) => sendJson(ctx.res, 200, versionResponse(ctx)));
  r.add('GET', '/info', async (ctx) => sendJson(ctx.res, 200, await ctx.deps.system.info()));
  // docker-py's network tests tear down with swarm/leave and swallow only 503 (or 406).
  r.add('POST', '/swarm/leave', () => {
    throw unavailable('This node is not part of a swarm');
  });
  r.add('GET', '/swarm', () => {
    throw unavailable('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  });
  // `docker inspect NAME` ends its type walk here: a 404 makes it say "No such object".
  r.add('GET', '/plugins/{name*}/json', (ctx) => {
    throw notFound(`plugin "${ctx.params.name}" not found`);
  });
  r.add('GET', '/plugins', (ctx) => sendJson(ctx.res, 200, []));
}
