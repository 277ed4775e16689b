import type { Router } from '../router.js';
import { registerSystem } from './system.js';
import { registerEvents } from './events.js';
import { registerContainers } from './containers.js';
import { registerContainerStreams } from './container-streams.js';
import { registerExec } from './exec.js';
import { registerImages } from './images.js';
import { registerAuth } from './auth.js';
import { registerVolumes } from './volumes.js';
import { registerNetworks } from './networks.js';
import { registerArchive } from './archive.js';
import { registerStats } from './stats.js';
import { registerUpdate } from './update.js';
import { registerSystemDf } from './system-df.js';
import { registerBuild } from './build.js';

export function buildRoutes(r: Router): Router {
  registerSystem(r);
  registerEvents(r);
  registerContainers(r);
  registerContainerStreams(r);
  registerExec(r);
  registerImages(r);
  registerAuth(r);
  registerVolumes(r);
  registerNetworks(r);
  registerArchive(r);
  registerStats(r);
  registerUpdate(r);
  registerSystemDf(r);
  registerBuild(r);
  return r;
}
