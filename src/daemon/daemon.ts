/**
 * The composition root: every service constructed explicitly, in dependency order.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import type { Server } from 'node:http';
import { ensureDir } from '../common/fs.js';
import { trash } from '../common/trash.js';
import { EventBus } from '../events/bus.js';
import { EventJournal } from '../events/journal.js';
import { createContentStore } from '../content/index.js';
import { createSnapshotter } from '../snapshots/index.js';
import { createImageService } from '../images/index.js';
import { attachArchives } from '../images/archive.js';
import { withDistribution } from '../images/push-pull.js';
import { createConmonRuntime } from '../runtime/index.js';
import { createVolumeService } from '../volumes/index.js';
import { createNetworkService } from '../network/index.js';
import { createContainerService, type Containers } from '../containers/index.js';
import { readHostResolvConf } from '../containers/support/etc-files.js';
import { parseLogOpts } from '../containers/logs/index.js';
import { createApiServer } from '../api/index.js';
import { createBuilder } from '../build/index.js';
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
  // Not traversable by other users (docker's answer to CVE-2021-41091): a setuid binary
  // or a world-writable dir a container leaves in a volume or a layer must not be
  // reachable by an unprivileged host user. chmod too: mkdir keeps an older root's mode.
  await ensureDir(cfg.dataRoot, 0o710);
  await chmod(cfg.dataRoot, 0o710);
  await ensureDir(cfg.execRoot, 0o711);
  const logRotation = parseLogOpts(cfg.logOpts);
  const releasePid = await claimPidFile(cfg.pidFile);
  const events = new EventBus();
  // The last events survive a restart: `docker events --since 10m` replays them (issue 3).
  const journal = await EventJournal.open(join(cfg.dataRoot, 'events.jsonl'), events);
  const content = createContentStore(cfg.dataRoot);
  const snapshots = await createSnapshotter(cfg.dataRoot);
  // save/load/commit ride on the image service object (images/archive.ts).
  const images = withDistribution(
    attachArchives(await createImageService({ root: cfg.dataRoot, content, snapshots, events }), { root: cfg.dataRoot, content, snapshots }),
    // pull/push/login over the registry client (images/push-pull.ts).
    { root: cfg.dataRoot, content, snapshots, events, registryOptions: { insecureRegistries: cfg.insecureRegistries, ...registryTuning() } },
  );
  // Mark and sweep before anything runs: layers and blobs a crash left between a pull's
  // commit and its image record (and ingest leftovers) go now (images/gc.ts).
  await images.collectGarbage().catch((err) => console.error(`berthd: start-up garbage collection: ${(err as Error).message}`));
  const runtime: Runtime = createConmonRuntime({ execRoot: cfg.execRoot, runtimePath: cfg.runtime });
  const volumes = createVolumeService({ root: cfg.dataRoot, events });
  const network = await createNetworkService({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, events });
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
    network,
  });
  await containers.reconcile();
  const system = createSystemService(cfg, { containers, images });
  // POST /build (classic builder): routes/build.ts finds it beside the other services.
  const builder = createBuilder({ dataRoot: cfg.dataRoot, containers, images, snapshots, content });
  const servers: Server[] = [];
  const sockets: string[] = [];
  for (const host of cfg.hosts) {
    const server = createApiServer({ containers, images, volumes, events, system, networks: network, builder });
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
      await containers.close().catch(() => {});
      await runtime.close();
      // The nft table goes when no container uses it (running ones keep theirs); bridges stay.
      await network.close().catch(() => {});
      await journal.close().catch(() => {});
      // What removed containers left to delete goes now (else: at the next start-up).
      await trash.drain().catch(() => {});
      await releasePid();
    },
  };
}

export { join };

/** Registry timeouts: BERTH_REGISTRY_TIMEOUT_MS / _ATTEMPTS override the defaults (tests use short ones). */
function registryTuning(): { idleTimeoutMs?: number; attempts?: number; backoffMs?: number } {
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  return {
    idleTimeoutMs: num(process.env.BERTH_REGISTRY_TIMEOUT_MS),
    attempts: num(process.env.BERTH_REGISTRY_ATTEMPTS),
    backoffMs: num(process.env.BERTH_REGISTRY_BACKOFF_MS),
  };
}
