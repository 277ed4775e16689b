export { resolveInRoot, openFileInRoot, readFileInRoot, readFileInRootIfExists, isWithin, mkdirAllInRoot } from './in-root.js';
export { resolveUser, resolveGroupAdd, resolveUserFrom, resolveGroupAddFrom, parsePasswd, parseGroup, type ResolvedUser } from './user.js';
export {
  renderHosts, renderHostname, renderResolvConf, parseResolvConf, parseExtraHost, readHostResolvConf, writeEtcFiles,
  type HostsOptions, type ResolvOptions, type EtcFilesOptions, type EtcFilePaths,
} from './etc-files.js';
export { parseDetachKeys, DetachKeyScanner, DEFAULT_DETACH_KEYS, type ScanResult } from './detach-keys.js';
export { top, parsePsOutput, cgroupPids, cgroupRelativePath, type TopResult } from './top.js';
export { parseSignal, signalName, SIGNALS } from './signals.js';
export { parseDuration, parseRFC3339Nano, formatRFC3339Nano, formatRFC3339NanoFixed, secondsToNanos, nowNanos } from './time.js';
