import type { Readable } from 'node:stream';

/** What the store knows about one blob. */
export interface BlobInfo {
  digest: string;
  size: number;
  /** Modification time of the committed blob (RFC 3339). */
  createdAt: string;
}

/** What a caller may assert about incoming data; a mismatch refuses the commit. */
export interface Expected {
  digest?: string;
  size?: number;
}

/**
 * An open ingest: bytes go to a private temp file and are hashed on the way.
 * commit() verifies and renames into place; abort() leaves nothing behind.
 */
export interface BlobWriter {
  /**
   * Takes chunk as is (the caller must not change it afterwards): the bytes may still
   * be queued when this resolves; commit() waits for them and reports any write error.
   */
  write(chunk: Buffer): Promise<void>;
  /** Bytes written so far. */
  readonly offset: number;
  commit(expected?: Expected): Promise<BlobInfo>;
  abort(): Promise<void>;
}

/**
 * Content-addressed blobs (layers, configs, manifests), containerd's content store
 * reduced to what berth needs. Blobs are immutable once committed.
 */
export interface ContentStore {
  /** Stream a blob in; verify digest and size when given; commit atomically. */
  ingest(data: Readable | Buffer, expected?: Expected): Promise<BlobInfo>;
  /** A writer for callers that produce bytes themselves (tee while applying a layer). */
  writer(): Promise<BlobWriter>;
  /** NOT_FOUND when absent. */
  read(digest: string): Promise<Readable>;
  readBuffer(digest: string): Promise<Buffer>;
  stat(digest: string): Promise<BlobInfo | undefined>;
  list(): Promise<BlobInfo[]>;
  /** Deleting an absent blob is not an error; returns whether something was removed. */
  delete(digest: string): Promise<boolean>;
  /** Path of the committed blob, for callers that need a file (sendfile, mmap). */
  blobPath(digest: string): string;
}
