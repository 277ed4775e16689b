/** berth update: change resources or the restart policy of one or more containers. */
import type { Command } from 'commander';
import { type Act, type Ctx, enc } from '../context.js';
import { CliError, FlagError } from '../errors.js';
import { parseBytes, parseCpus, parseRestart } from '../opts.js';
import { intFlag } from './update-flags.js';

interface UpdateOpts {
  blkioWeight?: string; cpuPeriod?: string; cpuQuota?: string; cpuShares?: string; cpus?: string; cpusetCpus?: string;
  cpusetMems?: string; memory?: string; memoryReservation?: string; memorySwap?: string; pidsLimit?: string;
  restart?: string; kernelMemory?: string;
}

export function updateBody(o: UpdateOpts): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (o.blkioWeight !== undefined) b.BlkioWeight = intFlag(o.blkioWeight, '--blkio-weight');
  if (o.cpuPeriod !== undefined) b.CpuPeriod = intFlag(o.cpuPeriod, '--cpu-period');
  if (o.cpuQuota !== undefined) b.CpuQuota = intFlag(o.cpuQuota, '--cpu-quota');
  if (o.cpuShares !== undefined) b.CpuShares = intFlag(o.cpuShares, '-c, --cpu-shares');
  if (o.cpus !== undefined) b.NanoCpus = parseCpus(o.cpus);
  if (o.cpusetCpus !== undefined) b.CpusetCpus = o.cpusetCpus;
  if (o.cpusetMems !== undefined) b.CpusetMems = o.cpusetMems;
  if (o.memory !== undefined) b.Memory = parseBytes(o.memory, '-m, --memory');
  if (o.memoryReservation !== undefined) b.MemoryReservation = parseBytes(o.memoryReservation, '--memory-reservation');
  if (o.memorySwap !== undefined) b.MemorySwap = parseBytes(o.memorySwap, '--memory-swap');
  if (o.kernelMemory !== undefined) b.KernelMemory = parseBytes(o.kernelMemory, '--kernel-memory');
  if (o.pidsLimit !== undefined) b.PidsLimit = intFlag(o.pidsLimit, '--pids-limit');
  if (o.restart !== undefined) b.RestartPolicy = parseRestart(o.restart);
  return b;
}

async function update(ctx: Ctx, names: string[], o: UpdateOpts): Promise<void> {
  const body = updateBody(o);
  if (Object.keys(body).length === 0) throw new FlagError('', 'update', 'you must provide one or more flags when using this command');
  let failed = false;
  for (const n of names) {
    try {
      const r = await ctx.client().json<{ Warnings?: string[] }>('POST', `/containers/${enc(n)}/update`, { body });
      for (const w of r?.Warnings ?? []) ctx.err.write(`${w}\n`);
      ctx.out.write(`${n}\n`);
    } catch (e) {
      failed = true;
      ctx.err.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  if (failed) throw new CliError('', 1);
}

export function registerUpdate(program: Command, ctx: Ctx, act: Act): Command {
  return program.command('update').description('Update configuration of one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<container...>')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--kernel-memory <bytes>', 'Kernel memory limit (not supported)')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--restart <string>', 'Restart policy to apply when a container exits')
    .action(act(1, (names: string[], o: UpdateOpts) => update(ctx, names, o)));
}
