/**
 * Helpers for the root-only runtime tests: a busybox rootfs, a private exec root,
 * and a run-to-completion helper. Not part of the runtime's API.
 */
import { mkdtemp, mkdir, copyFile, symlink, writeFile, rm, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount } from '../mount/mount.js';
import type { Runtime, StdioChunk, ExitStatus } from './types.js';
import { buildSpec, type SpecInput } from './spec/build-spec.js';
import { readHostInfo, type HostInfo } from './spec/host-info.js';

const APPLETS = ['sh', 'echo', 'cat', 'kill', 'sleep', 'hostname', 'mount', 'head', 'tail', 'grep', 'ls',
  'true', 'false', 'id', 'stty', 'ps', 'mkdir', 'tr', 'wc', 'printf', 'umount', 'dd', 'test', 'env'];

export async function makeBusyboxRootfs(): Promise<string> {
  const dir = await mkdtemp('/tmp/brr-');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'mnt']) await mkdir(join(dir, d));
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(dir, 'bin', a));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  return dir;
}

export function rootfsMounts(dir: string): Mount[] {
  return [{ type: 'bind', source: dir, options: ['rbind'] }];
}

let host: HostInfo | undefined;
export const CGROUP_PARENT = '/berth-test';

export async function testSpec(id: string, input: Partial<SpecInput> & { args: string[] }) {
  host ??= await readHostInfo();
  return buildSpec({
    hostBoundingCaps: host.boundingCaps,
    hostHardLimits: host.hardLimits,
    cgroupsPath: `${CGROUP_PARENT}/${id}`,
    ...input,
  });
}

export async function collect(output: AsyncIterable<StdioChunk>): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  for await (const c of output) {
    if (c.stream === 'stdout') stdout += c.data.toString();
    else stderr += c.data.toString();
  }
  return { stdout, stderr };
}

export interface RunResult { stdout: string; stderr: string; exit: ExitStatus }

/** create → attach → start → read all output → wait for the exit; the container is left for delete. */
export async function runToExit(rt: Runtime, id: string, rootfs: string, input: Partial<SpecInput> & { args: string[] }, logDir: string): Promise<RunResult> {
  const spec = await testSpec(id, input);
  await rt.create({ id, spec, rootfs: rootfsMounts(rootfs), logPath: join(logDir, `${id}.log`), terminal: input.terminal ?? false, stdin: false });
  const io = await rt.attach(id);
  const out = collect(io.output);
  await rt.start(id);
  const [o, exit] = await Promise.all([out, rt.waitExit(id)]);
  return { ...o, exit };
}

/** Remove the per-test cgroup parents runc leaves behind (it only deletes the leaf). */
export async function removeCgroupParent(): Promise<void> {
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    await rmdir(join('/sys/fs/cgroup', ctrl, CGROUP_PARENT)).catch(() => {});
  }
}

export async function rmTree(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true });
}
