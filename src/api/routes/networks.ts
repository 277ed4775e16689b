/** Network endpoints, docker's JSON shapes. Thin: decode, one service call, encode. */
import type { Ctx, Router } from '../router.js';
import { invalidArgument, notFound, unavailable } from '../../common/errors.js';
import { parseTimestamp } from '../../images/index.js';
import { readJson, sendEmpty, sendJson } from '../http-util.js';
import { checkFilterKeys, checkUntilFilter, qFilters } from '../query.js';
import { networkWire } from '../wire/network.js';
import { compareVersions } from '../frames.js';
import { checkShape } from '../wire/create-body.js';
import { NETWORK_CONNECT_BODY, NETWORK_CREATE_BODY, NETWORK_DISCONNECT_BODY } from '../wire/bodies.js';
import type { CreateNetworkOptions, NetworkService } from '../../network/types.js';

function svc(ctx: Ctx): NetworkService {
  if (!ctx.deps.networks) throw unavailable('networking is not available in this berthd');
  return ctx.deps.networks;
}

async function list(ctx: Ctx): Promise<void> {
  const f = qFilters(ctx.query);
  checkFilterKeys(f, ['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling']);
  const s = svc(ctx);
  // dockerd lists each network's containers only for clients older than API 1.28; newer
  // ones get an empty map there and the containers from the network's inspect.
  const detailed = compareVersions(ctx.version, '1.28') < 0;
  sendJson(ctx.res, 200, s.list(f).map((n) => networkWire(n, detailed ? s.endpointsOf(n.Id) : [])));
}

async function inspect(ctx: Ctx): Promise<void> {
  // docker inspect walks every object type and needs a 404 here, even without networking.
  if (!ctx.deps.networks) throw notFound(`network ${ctx.params.id} not found`);
  const s = svc(ctx);
  const n = s.get(ctx.params.id!);
  sendJson(ctx.res, 200, networkWire(n, s.endpointsOf(n.Id)));
}

async function create(ctx: Ctx): Promise<void> {
  const b = await readJson<CreateNetworkOptions>(ctx.req, {} as CreateNetworkOptions);
  checkShape(b, NETWORK_CREATE_BODY);
  const s = svc(ctx);
  const r = await s.create(b);
  // dockerd announces every new network (docker events, compose watchers).
  const n = s.get(r.Id);
  ctx.deps.events.publish('network', 'create', n.Id, { name: n.Name, type: n.Driver });
  sendJson(ctx.res, 201, r);
}

interface ConnectBody {
  Container?: string;
  EndpointConfig?: { Aliases?: string[] | null; Links?: string[] | null; MacAddress?: string; IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null } | null;
  Force?: boolean;
}

async function connect(ctx: Ctx): Promise<void> {
  const b = await readJson<ConnectBody>(ctx.req, {});
  checkShape(b, NETWORK_CONNECT_BODY);
  const c = await ctx.deps.containers.inspect(b.Container ?? '');
  const s = svc(ctx);
  const n = s.get(ctx.params.id!);
  const e = b.EndpointConfig;
  const req = {
    network: n.Name, aliases: e?.Aliases ?? undefined, ip: e?.IPAMConfig?.IPv4Address || undefined,
    // Links and MAC are wired; IPv6 and link-local addresses are refused by the service, not dropped.
    links: e?.Links ?? undefined, mac: e?.MacAddress || undefined, ip6: e?.IPAMConfig?.IPv6Address || undefined, linkLocalIPs: e?.IPAMConfig?.LinkLocalIPs ?? undefined,
  };
  // Through the containers service when it can: a stopped container gets it at its next start.
  if (ctx.deps.containers.connectNetwork) await ctx.deps.containers.connectNetwork(c.Id, req);
  else await s.connect(c.Id, req);
  ctx.deps.events.publish('network', 'connect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  sendEmpty(ctx.res, 200);
}

async function disconnect(ctx: Ctx): Promise<void> {
  const b = await readJson<ConnectBody>(ctx.req, {});
  checkShape(b, NETWORK_DISCONNECT_BODY);
  const c = await ctx.deps.containers.inspect(b.Container ?? '');
  const s = svc(ctx);
  const n = s.get(ctx.params.id!);
  if (ctx.deps.containers.disconnectNetwork) await ctx.deps.containers.disconnectNetwork(c.Id, n.Name);
  else await s.disconnect(c.Id, n.Name);
  ctx.deps.events.publish('network', 'disconnect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  sendEmpty(ctx.res, 200);
}

export function registerNetworks(r: Router): void {
  r.add('GET', '/networks', list);
  r.add('POST', '/networks/create', create);
  r.add('POST', '/networks/prune', async (ctx) => {
    const f = qFilters(ctx.query);
    checkFilterKeys(f, ['label', 'label!', 'until']);
    // docker sends until as the user typed it ("24h", unix seconds, a date): one instant here,
    // or a duration would read as no limit and prune networks created a second ago.
    if ((f.until?.length ?? 0) > 1) throw invalidArgument('more than one until filter specified');
    checkUntilFilter(f);
    if (f.until?.length) {
      const t = parseTimestamp(f.until[0]!);
      // A duration of 1e20 hours lands outside a Date: toISOString's RangeError was a 500.
      if (!(Math.abs(t) <= 8.64e15)) throw invalidArgument(`invalid filter 'until=${f.until[0]}': the timestamp is out of range`);
      f.until = [new Date(t).toISOString()];
    }
    const removed = await svc(ctx).prune(f);
    for (const n of removed) ctx.deps.events.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    sendJson(ctx.res, 200, { NetworksDeleted: removed.map((n) => n.Name) });
  });
  r.add('GET', '/networks/{id}', inspect);
  r.add('POST', '/networks/{id}/connect', connect);
  r.add('POST', '/networks/{id}/disconnect', disconnect);
  r.add('DELETE', '/networks/{id}', async (ctx) => {
    const s = svc(ctx);
    const n = s.get(ctx.params.id!);
    await s.remove(n.Id);
    ctx.deps.events.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    sendEmpty(ctx.res, 204);
  });
}
