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
   * docker rmi semantics: a tag reference untags (and deletes when it was the last
   * tag); an id deletes (CONFLICT when several tags point to it and !force).
   * isInUse(imageId) tells whether a container uses the image (CONFLICT unless force);
   * returning that container's id (instead of true) puts it in the message, as docker does.
   */
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }, isInUse: (imageId: string) => boolean | string | undefined): Promise<RemoveResult[]>;
  /** History entries newest first, docker's shape. */
  history(ref: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>>;
}
