import type { Router } from '../router.js';
import { registerSystem } from './system.js';
import { registerEvents } from './events.js';
import { registerContainers } from './containers.js';
import { registerContainerStreams } from './container-streams.js';
import { registerExec } from './exec.js';
import { registerImages } from './images.js';
import { registerVolumes } from './volumes.js';

export function buildRoutes(r: Router): Router {
  registerSystem(r);
  registerEvents(r);
  registerContainers(r);
  registerContainerStreams(r);
  registerExec(r);
  registerImages(r);
  registerVolumes(r);
  return r;
}
