/**
 * `--device /dev/x[:/dev/y][:rwm]`: host device nodes made available in the container,
 * with a device-cgroup rule allowing exactly them. Resolved at create (a missing node is
 * the user's error, docker's message) and again at start (the node may have changed).
 */
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalidArgument, isErrno } from '../common/errors.js';
import type { DeviceMapping } from '../oci/docker-config.js';
import type { LinuxDevice } from '../oci/runtime-spec.js';

export type ResolvedDevice = LinuxDevice & { access: string };

/** glibc's dev_t encoding. */
function majorMinor(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

export async function resolveDevices(mappings: DeviceMapping[] | null | undefined): Promise<ResolvedDevice[]> {
  const out: ResolvedDevice[] = [];
  for (const m of mappings ?? []) {
    const host = m.PathOnHost;
    const inCtr = m.PathInContainer || host;
    const access = m.CgroupPermissions || 'rwm';
    if (typeof host !== 'string' || !host.startsWith('/')) throw invalidArgument(`invalid device mapping: host path must be absolute: ${JSON.stringify(host)}`);
    if (!inCtr.startsWith('/') || posix.normalize(inCtr) !== inCtr) throw invalidArgument(`invalid device mapping: container path must be absolute and clean: ${JSON.stringify(inCtr)}`);
    if (!/^[rwm]{1,3}$/.test(access)) throw invalidArgument(`invalid device mode: ${access}: use a combination of r, w and m`);
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      const why = isErrno(err, 'ENOENT') ? 'no such file or directory' : (err as Error).message;
      throw invalidArgument(`error gathering device information while adding custom device "${host}": ${why}`);
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) {
      throw invalidArgument(`error gathering device information while adding custom device "${host}": not a device node`);
    }
    const { major, minor } = majorMinor(st.rdev);
    out.push({ path: inCtr, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, access });
  }
  return out;
}
