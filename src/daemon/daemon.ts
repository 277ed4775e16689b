/**
 * The composition root: every service constructed explicitly, in dependency order.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { ensureDir } from '../common/fs.js';
import { EventBus } from '../events/bus.js';
import { createContentStore } from '../content/index.js';
import { createSnapshotter } from '../snapshots/index.js';
import { createImageService } from '../images/index.js';
import { createConmonRuntime } from '../runtime/index.js';
import { createVolumeService } from '../volumes/index.js';
import { createContainerService, type Containers } from '../containers/index.js';
import { readHostResolvConf } from '../containers/support/etc-files.js';
import { parseLogOpts } from '../containers/logs/index.js';
import { createApiServer } from '../api/index.js';
import { createSystemService } from './system.js';
import { listenUnix } from './listen.js';
import { claimPidFile } from './pidfile.js';
import type { DaemonConfig } from './config.js';
import type { Runtime } from '../runtime/types.js';

export interface Daemon {
  containers: Containers;
  servers: Server[];
  sockets: string[];
  shutdown(): Promise<void>;
}

const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

export async function startDaemon(cfg: DaemonConfig): Promise<Daemon> {
  await ensureDir(cfg.dataRoot, 0o711);
  await ensureDir(cfg.execRoot, 0o711);
  const logRotation = parseLogOpts(cfg.logOpts);
  const releasePid = await claimPidFile(cfg.pidFile);
  const events = new EventBus();
  const content = createContentStore(cfg.dataRoot);
  const snapshots = await createSnapshotter(cfg.dataRoot);
  const images = await createImageService({ root: cfg.dataRoot, content, snapshots, events });
  const runtime: Runtime = createConmonRuntime({ execRoot: cfg.execRoot, runtimePath: cfg.runtime });
  const volumes = createVolumeService({ root: cfg.dataRoot, events });
  const containers = createContainerService({
    dataRoot: cfg.dataRoot,
    runtime,
    images,
    snapshots,
    volumes,
    events,
    initPath: INIT_CANDIDATES.find((p) => existsSync(p)),
    logMaxSize: logRotation.maxSize,
    logMaxFiles: logRotation.maxFiles,
    hostResolvConf: await readHostResolvConf(),
  });
  await containers.reconcile();
  const system = createSystemService(cfg, { containers, images });
  const servers: Server[] = [];
  const sockets: string[] = [];
  for (const host of cfg.hosts) {
    const server = createApiServer({ containers, images, volumes, events, system });
    sockets.push(await listenUnix(server, host));
    servers.push(server);
  }
  events.publish('daemon', 'start', 'berthd', { name: 'berthd' });
  return {
    containers,
    servers,
    sockets,
    async shutdown() {
      for (const s of servers) {
        s.close();
        s.closeAllConnections?.();
      }
      // Containers keep running under conmon; the next berthd re-adopts them.
      await runtime.close();
      await releasePid();
    },
  };
}

export { join };
