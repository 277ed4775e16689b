import { createHash } from 'node:crypto';
import { LocalNetworkService, type NetworkServiceOptions } from './service.js';
import { EmbeddedDns } from './dns-server.js';
import type { EventBus } from '../events/bus.js';

export type * from './types.js';
export { expandPortBindings, parsePortKey } from './ports.js';

/**
 * The network service with its state loaded and its bridges present. The default
 * bridge and table names are docker's counterparts for the default exec root; a
 * berthd with another exec root (tests, a second engine) gets its own names.
 */
export async function createNetworkService(o: { dataRoot: string; execRoot: string; bridgeName?: string; events?: EventBus }): Promise<LocalNetworkService> {
  const standard = o.execRoot === '/run/berth';
  const tag = createHash('sha256').update(o.execRoot).digest('hex').slice(0, 6);
  const opts: NetworkServiceOptions = {
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    bridgeName: o.bridgeName ?? (standard ? 'berth0' : `berth-${tag}`),
    table: standard ? 'berth' : `berth_${tag}`,
  };
  const s = new LocalNetworkService(opts);
  await s.init();
  // Embedded DNS on user-defined networks; a rename renames the DNS name too.
  await s.useDns(new EmbeddedDns({ view: { networks: () => s.list(), sandboxes: () => s.sandboxes() }, warn: (m) => process.stderr.write(m + '\n') }));
  o.events?.subscribe((ev) => {
    if (ev.Type === 'container' && ev.Action === 'rename' && ev.Actor.Attributes.name) void s.renameContainer(ev.Actor.ID, ev.Actor.Attributes.name.replace(/^\//, '')).catch(() => {});
  });
  return s;
}

export { LocalNetworkService, EmbeddedDns };
