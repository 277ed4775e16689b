/**
 * The image service: names to images, and each image's layers as snapshots.
 */
import type { Readable } from 'node:stream';
import type { ImageConfigFile } from '../oci/image-spec.js';

export interface ImageRecord {
  /** sha256:<hex> of the config blob (docker's image id). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** The parsed config blob. */
  config: ImageConfigFile;
  /** Manifest digest this image came from, when known. */
  manifestDigest?: string;
  /** Chain ids of the layers, bottom first; the last is the snapshot a container builds on. */
  chainIds: string[];
  /** Uncompressed size of all layers. */
  size: number;
  /** When the image was stored here (RFC 3339). */
  loadedAt: string;
}

export interface ImageFilters {
  dangling?: boolean;
  reference?: string[];
  label?: string[];
  before?: string;
  since?: string;
  /** Created before this timestamp (a duration back from now, unix seconds or RFC 3339). */
  until?: string;
}

export interface PruneOptions {
  /** Every unused image, not only dangling ones (docker image prune -a). */
  all?: boolean;
  /** Only images created before this time (ms since epoch). */
  until?: number;
  /** label=k / label=k=v must match; label!=... must not. */
  label?: string[];
  labelNot?: string[];
}

export interface ImportOptions {
  /** "repo[:tag]" to tag the result with, optional. */
  reference?: string;
  /** Dockerfile-style instructions (CMD, ENV, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME). */
  changes?: string[];
  message?: string;
  platform?: { os?: string; architecture?: string };
}

export interface RemoveResult {
  Untagged?: string;
  Deleted?: string;
}

export interface ImageService {
  /** By name[:tag], name@digest, full or short id; NOT_FOUND "No such image: <ref>". */
  get(ref: string): Promise<ImageRecord>;
  list(filters?: ImageFilters): Promise<ImageRecord[]>;
  /** A rootfs tarball (plain, gzip, bzip2? at least plain and gzip) as a one-layer image. */
  import(tar: Readable, opts: ImportOptions): Promise<ImageRecord>;
  tag(source: string, reference: string): Promise<void>;
  /**
   * docker rmi semantics (images/remove.ts): a name untags, and deletes the image with
   * its last reference; an id deletes (CONFLICT when several repositories name it and
   * !force). isInUse(imageId) lists the containers using the image: a stopped one is a
   * conflict unless forced, a running one even when forced.
   */
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }, isInUse: (imageId: string) => Array<{ id: string; running: boolean }> | boolean | string | undefined): Promise<RemoveResult[]>;
  /** docker image prune: dangling images, or with all every image no container uses. */
  pruneImages?(opts: PruneOptions, isInUse: (imageId: string) => boolean): Promise<{ ImagesDeleted: RemoveResult[] | null; SpaceReclaimed: number }>;
  /** docker system df, the image side: LayersSize (allocated bytes) and each image's SharedSize. */
  diskUsage?(): Promise<{ layersSize: number; images: Array<{ id: string; sharedSize: number }> }>;
  /** Allocated bytes of a container's writable snapshot (its SizeRw); 0 when it has none. */
  snapshotUsage?(key: string): Promise<number>;
  /**
   * Bytes of the files in a container's upper dir, counted as docker's SizeRw does
   * (file sizes, each inode once, directories not counted); 0 when it has none.
   */
  upperSize?(key: string): Promise<number>;
  /** History entries newest first, docker's shape. */
  history(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>>;
}
