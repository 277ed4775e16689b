import type { Mount } from '../mount/mount.js';

/**
 * The overlay snapshotter (containerd's model): committed snapshots are read-only
 * layers keyed by chain id; active snapshots are writable upper dirs keyed by a
 * caller's key (a container id). It returns Mount[] and never mounts.
 */
export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: 'committed' | 'active';
  created: string;
}

export interface Snapshotter {
  /** A writable snapshot on top of parent (a committed key), returned as the mounts of its root. */
  prepare(key: string, parent: string | undefined): Promise<Mount[]>;
  /**
   * prepare in two steps: resolves once the snapshot exists (directories made, mounts
   * usable by this process); `durable` settles once its metadata is on disk. A caller that
   * records the snapshot elsewhere waits for `durable` first; meanwhile it can mount it
   * (a container's start is prepared while the create's records are written).
   */
  prepareEarly(key: string, parent: string | undefined): Promise<{ mounts: Mount[]; durable: Promise<void> }>;
  /**
   * The mounts of an existing active snapshot. volatile: the writes need not survive a
   * crash (a container removed at its exit): the overlay skips its syncs (podman does the
   * same for --rm), which takes ~0.7 ms off every unmount here. The kernel's marker of an
   * earlier volatile mount (which blocks any later mount) is cleared first, whatever opts say.
   */
  mounts(key: string, opts?: { volatile?: boolean }): Promise<Mount[]>;
  /** Path of the active snapshot's upper dir (for diff, export, copy). */
  upperDir(key: string): Promise<string>;
  /** Path of a committed snapshot's fs dir. */
  committedDir(key: string): Promise<string>;
  stat(key: string): Promise<SnapshotInfo | undefined>;
  list(): Promise<SnapshotInfo[]>;
  /**
   * durable: false neither syncs nor waits for the metadata write (it follows within a few
   * ms): for callers whose start-up removes an active snapshot that nothing records (a
   * crash or a power loss may bring one back).
   */
  remove(key: string, opts?: { durable?: boolean }): Promise<void>;
  /** Disk usage in bytes of the snapshot's own dir. */
  usage(key: string): Promise<number>;
}
