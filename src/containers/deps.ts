import type { Runtime } from '../runtime/types.js';
import type { ImageService } from '../images/types.js';
import type { Snapshotter } from '../snapshots/types.js';
import type { VolumeService } from '../volumes/types.js';
import type { EventBus } from '../events/bus.js';
import type { NetworkService } from '../network/types.js';

/** What the containers service is built from (daemon/ wires it). */
export interface ContainerDeps {
  dataRoot: string;
  runtime: Runtime;
  images: ImageService;
  snapshots: Snapshotter;
  volumes: VolumeService;
  events: EventBus;
  /** Host path of a static init (tini-static) for --init; undefined disables --init. */
  initPath?: string;
  /** Log rotation defaults (docker json-file max-size / max-file). */
  logMaxSize: number;
  logMaxFiles: number;
  /** The host resolv.conf to base containers' on. */
  hostResolvConf?: string;
  /** Networking (issue 5): sandboxes for bridge-mode containers; absent = every container gets lo only. */
  network?: NetworkService;
}
