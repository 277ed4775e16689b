export type { Snapshotter, SnapshotInfo } from './types.js';
export { createOverlaySnapshotter, type LayerSnapshotter, type CommitLayerOptions } from './overlay.js';
export { createOverlaySnapshotter as createSnapshotter } from './overlay.js';
