export { detectLayout, CgroupDir, type CgroupLayout, type CgroupVersion } from './detect.js';
export { readCgroupStats, workingSetBytes, type CgroupStats, type BlkioEntry } from './stats.js';
export { writeCgroupLimits, sharesToWeight, blkioToIoWeight, type CgroupLimits } from './write.js';
export { hostCgroupInfo, readHostCgroupInfo, type HostCgroupInfo } from './host.js';
export { parseCpuList } from './read.js';
export { resolveThrottle, addThrottleDevices, type ThrottleDevice, type ThrottleInput } from './block-devices.js';
export { readNetDev, type NetDevCounters } from './net-dev.js';
export { containerCgroupsPath, cgroupParentProblem, DEFAULT_CGROUP_PARENT } from './parent.js';
export { realtimeSupported, realtimeBudget, realtimeProblem, type RealtimeBudget } from './realtime.js';
