import type { VolumeRecord } from '../../volumes/types.js';
import type { VolumeWire } from '../types.js';

export function volumeWire(v: VolumeRecord): VolumeWire {
  return {
    CreatedAt: v.CreatedAt,
    Driver: v.Driver,
    Labels: v.Labels ?? null,
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Options: v.Options && Object.keys(v.Options).length ? v.Options : null,
    Scope: v.Scope,
  };
}
