/** Named local volumes, reference-counted by the containers that mount them. */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  /** True for volumes made from an image VOLUME or a `-v /path` with no name. */
  anonymous: boolean;
}

export interface VolumeService {
  /** Create (or return the existing one with the same name, as docker does). Name empty = random. */
  create(opts: { name?: string; labels?: Record<string, string>; driverOpts?: Record<string, string>; anonymous?: boolean }): Promise<VolumeRecord>;
  get(name: string): Promise<VolumeRecord>;
  list(filters?: { name?: string[]; label?: string[]; dangling?: boolean }, isInUse?: (name: string) => boolean): Promise<VolumeRecord[]>;
  /** CONFLICT "volume is in use" when isInUse(name) and !force. */
  remove(name: string, opts: { force?: boolean }, isInUse: (name: string) => boolean): Promise<void>;
  /** label!: volumes carrying one of these labels (key or key=value) are kept. */
  prune(filters: { label?: string[]; labelNot?: string[]; all?: boolean }, isInUse: (name: string) => boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
  usage(name: string): Promise<number>;
}
