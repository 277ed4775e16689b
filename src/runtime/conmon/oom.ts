/**
 * OOM detection besides conmon's own `oom` file: the kernel's per-cgroup oom_kill
 * counter, readable until `runc delete` removes the cgroup. On cgroup v1 this is
 * memory.oom_control; on v2, memory.events.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

async function counter(file: string, key: string): Promise<number | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const m = new RegExp(`^${key} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the kernel OOM-killed a process in the container's cgroup (cgroupfs path). */
export async function cgroupOomKilled(cgroupsPath: string | undefined, root = '/sys/fs/cgroup'): Promise<boolean> {
  if (!cgroupsPath || !cgroupsPath.startsWith('/')) return false;
  const v1 = await counter(join(root, 'memory', cgroupsPath, 'memory.oom_control'), 'oom_kill');
  if (v1 !== undefined) return v1 > 0;
  const v2 = await counter(join(root, cgroupsPath, 'memory.events'), 'oom_kill');
  return (v2 ?? 0) > 0;
}
