/**
 * OOM detection besides conmon's own `oom` file: the kernel's per-cgroup oom_kill
 * counter, readable until `runc delete` removes the cgroup. On cgroup v1 this is
 * memory.oom_control; on v2, memory.events.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function counter(file: string, key: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const m = new RegExp(`^${key} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the kernel OOM-killed a process in the container's cgroup (cgroupfs path). */
export function cgroupOomKilled(cgroupsPath: string | undefined, root = '/sys/fs/cgroup'): boolean {
  if (!cgroupsPath || !cgroupsPath.startsWith('/')) return false;
  const v1 = counter(join(root, 'memory', cgroupsPath, 'memory.oom_control'), 'oom_kill');
  if (v1 !== undefined) return v1 > 0;
  const v2 = counter(join(root, cgroupsPath, 'memory.events'), 'oom_kill');
  return (v2 ?? 0) > 0;
}
