#!/usr/bin/env node
/**
 * What Docker's default seccomp profile costs at `runc create`, by architecture list
 * (berthd itself leaves x32 out on a kernel that cannot run it: host-info.ts).
 * runc compiles the profile with libseccomp once per listed architecture (x86_64, x86,
 * x32 on amd64), so the floor with berthd's own spec runs interleaved with that spec's
 * `architectures` trimmed, and with no seccomp at all. The rules are the same in every
 * variant; only what the filter recognises changes (see bench/README.md).
 *
 *   node bench/seccomp.mjs [--iterations 20] [--warmup 2]
 */
import { table, ratios } from './lib/stats.mjs';
import { main, parseFlags, onCleanup } from './lib/proc.mjs';
import { busyboxTar, tempDir, startBerthd, engineSpec } from './lib/engines.mjs';
import { prepareFloor, conmonRun, floorCleanup, withEngineSpec } from './lib/floor.mjs';
import { machineFacts } from './lib/machine.mjs';
import { roundRobin } from './lib/round-robin.mjs';

await main(async () => {
  const flags = parseFlags(process.argv.slice(2), { iterations: 20, warmup: 2 });
  const tar = await busyboxTar();
  const f = await prepareFloor(await tempDir('bf-'), tar);
  onCleanup(() => floorCleanup(f));
  const b = await startBerthd({ tar });
  const spec = await engineSpec(b);
  const archs = (list) => { const s = structuredClone(spec); s.linux.seccomp.architectures = list; return s; };
  const none = structuredClone(spec);
  delete none.linux.seccomp;
  const variants = [];
  for (const [key, label, sp] of [
    ['all', 'x86_64 + x86 + x32 (Docker\'s list)', archs(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])],
    ['no-x32', 'x86_64 + x86 (berthd on a kernel without x32)', archs(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'])],
    ['x86_64', 'x86_64 only', archs(['SCMP_ARCH_X86_64'])],
    ['none', 'no seccomp', none],
  ]) {
    const g = await withEngineSpec(f, sp);
    variants.push({ key, label, once: () => conmonRun(g) });
  }
  const results = await roundRobin(variants, flags);
  const rows = variants.map((v) => ({ key: v.key, label: v.label, times: results.get(v.key).times, errors: results.get(v.key).errors }));
  process.stdout.write([`conmon + runc with berthd's spec, by seccomp architectures; ${flags.iterations} interleaved iterations`,
    (await machineFacts()).line, '', table(rows), '',
    ratios(rows, [{ num: 'no-x32', den: 'all' }, { num: 'x86_64', den: 'all' }, { num: 'none', den: 'all' }])].join('\n') + '\n');
});
