import { execFile } from 'node:child_process';
import { readdir, readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { invalidArgument, internal, isErrno, unavailable } from '../../common/errors.js';

const execFileP = promisify(execFile);

export interface TopResult { Titles: string[]; Processes: string[][] }

// docker refuses args that retitle a column as PID (it could not tell which column is the pid).
const RETITLE_PID = /\s+([^\s]*)=\s*(PID[^\s]*)/;

/** Split on ASCII whitespace only, as docker's fieldsASCII (command lines may hold other spaces). */
function fieldsAscii(s: string): string[] {
  return s.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

/**
 * Keep the rows of `ps` output whose PID column is one of `pids`. Thread rows (PID "-",
 * as printed with `m`) follow the process row before them. The last title takes all
 * remaining fields (the command and its arguments).
 */
export function parsePsOutput(output: string, pids: number[]): TopResult {
  const lines = output.split('\n');
  const Titles = fieldsAscii(lines[0] ?? '');
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw invalidArgument("Couldn't find PID field in ps output");
  const want = new Set(pids);
  const Processes: string[][] = [];
  const push = (fields: string[]) => {
    const row = fields.slice(0, Titles.length - 1);
    row.push(fields.slice(Titles.length - 1).join(' '));
    Processes.push(row);
  };
  let lastKept = false;
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const fields = fieldsAscii(line);
    const pf = fields[pidIndex];
    if (pf === '-') {
      if (lastKept) push(fields);
      continue;
    }
    const p = Number(pf);
    if (!Number.isInteger(p)) throw internal(`Unexpected pid '${pf}'`);
    lastKept = want.has(p);
    if (lastKept) push(fields);
  }
  return { Titles, Processes };
}

/**
 * docker top: run the host's ps with psArgs (default -ef), first restricted to the
 * pids with -q (cheap on busy hosts), then, as docker does when an option conflicts
 * with -q, unrestricted; rows are then filtered by the PID column.
 */
export async function top(pids: number[], psArgs = '', psBin = 'ps'): Promise<TopResult> {
  const argStr = psArgs.trim() === '' ? '-ef' : psArgs;
  if (RETITLE_PID.test(' ' + argStr)) throw invalidArgument('ps: must not redefine the PID column title');
  const args = argStr.split(/\s+/).filter((a) => a !== '');
  let stdout: string;
  try {
    stdout = (await execFileP(psBin, pids.length ? [...args, `-q${pids.join(',')}`] : args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw unavailable(`ps not found: install procps to use top`, err);
    try {
      stdout = (await execFileP(psBin, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (err2) {
      const stderr = String((err2 as { stderr?: string }).stderr ?? '').split('\n')[0];
      throw invalidArgument(`ps: ${stderr || (err2 as Error).message}`, err2);
    }
  }
  return parsePsOutput(stdout, pids);
}

/** systemd's "slice:prefix:name" form maps to "<slice path>/<prefix>-<name>.scope". */
export function cgroupRelativePath(cgroupsPath: string): string {
  const parts = cgroupsPath.split(':');
  if (parts.length === 3 && !cgroupsPath.startsWith('/')) {
    const [slice, prefix, name] = parts as [string, string, string];
    // a-b-c.slice lives at a.slice/a-b.slice/a-b-c.slice
    const sl = slice === '' ? 'system.slice' : slice;
    const segs = sl.replace(/\.slice$/, '').split('-');
    const dirs = segs.map((_, i) => segs.slice(0, i + 1).join('-') + '.slice');
    if (sl === '-.slice') dirs.length = 0;
    return join(...dirs, `${prefix}-${name}.scope`);
  }
  return cgroupsPath.replace(/^\/+/, '');
}

/** All pids in the container's pids cgroup, nested cgroups included. */
export async function cgroupPids(cgroupsPath: string, cgroupRoot = '/sys/fs/cgroup'): Promise<number[]> {
  const rel = cgroupRelativePath(cgroupsPath);
  let v2 = true;
  try {
    await access(join(cgroupRoot, 'cgroup.controllers'));
  } catch {
    v2 = false;
  }
  const dir = v2 ? join(cgroupRoot, rel) : join(cgroupRoot, 'pids', rel);
  const out: number[] = [];
  const walk = async (d: string): Promise<void> => {
    let text: string;
    try {
      text = await readFile(join(d, 'cgroup.procs'), 'utf8');
    } catch (err) {
      // A vanished cgroup (the container is gone, or a child raced away) has no pids.
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const l of text.split('\n')) if (l.trim() !== '') out.push(Number(l));
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await walk(join(d, e.name));
  };
  await walk(dir);
  return [...new Set(out)];
}
