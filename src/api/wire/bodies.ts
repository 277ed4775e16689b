/**
 * The JSON bodies of the endpoints other than container create and exec create, as
 * Go structs that checkShape (create-body.ts) checks and normalizes: commit's
 * container.Config, update's resources, network create/connect/disconnect, volume create.
 */
import { CONFIG, ENDPOINT, HOST_CONFIG, type Shape } from './create-body.js';

/** POST /commit: the body is a container.Config (what the new image's config takes from). */
export const COMMIT_BODY: Shape = { obj: CONFIG };

/** docker's container.Resources, the part of HostConfig that update can change. */
const RESOURCES = [
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus',
  'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap',
  'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
];

/** POST /containers/{id}/update: container.UpdateConfig (Resources and RestartPolicy). */
export const UPDATE_BODY: Shape = {
  obj: Object.fromEntries([...RESOURCES, 'RestartPolicy'].map((k) => [k, HOST_CONFIG.obj[k]!])),
};

export const NETWORK_CREATE_BODY: Shape = {
  obj: {
    Name: 'string', CheckDuplicate: 'bool', Driver: 'string', Scope: 'string', EnableIPv4: 'bool', EnableIPv6: 'bool',
    IPAM: { obj: { Driver: 'string', Config: { arr: { obj: { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: 'map' } } }, Options: 'map' } },
    Internal: 'bool', Attachable: 'bool', Ingress: 'bool', ConfigOnly: 'bool', ConfigFrom: { obj: { Network: 'string' } },
    Options: 'map', Labels: 'map',
  },
};

export const NETWORK_CONNECT_BODY: Shape = { obj: { Container: 'string', EndpointConfig: ENDPOINT, Force: 'bool' } };

export const NETWORK_DISCONNECT_BODY: Shape = { obj: { Container: 'string', Force: 'bool' } };

export const VOLUME_CREATE_BODY: Shape = { obj: { Name: 'string', Driver: 'string', DriverOpts: 'map', Labels: 'map', ClusterVolumeSpec: 'any' } };
