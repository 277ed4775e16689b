/** The interleaved sampling loop both benches share. */

// podman 4.3 as root raises RLIMIT_NOFILE/NPROC to values this sandbox (no CAP_SYS_RESOURCE)
// refuses, even --ulimit host; runc spec's own default (1024) works.
export const PODMAN_ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

/** Warm-up rounds, then N rounds of every variant once, order rotated each round. */
export async function roundRobin(variants, { iterations, warmup }) {
  const res = new Map(variants.map((v) => [v.key, { times: [], errors: 0 }]));
  const total = warmup + iterations;
  for (let i = 0; i < total; i++) {
    const order = variants.map((_, k) => variants[(k + i) % variants.length]);
    for (const v of order) {
      try {
        const ms = await v.once();
        if (i >= warmup) res.get(v.key).times.push(ms);
      } catch (e) {
        // A failure counts, and is reported once per variant (the first tells the story).
        if (res.get(v.key).errors++ === 0) process.stderr.write(`${v.key}: ${e.message}\n`);
        if (res.get(v.key).errors > 5 && res.get(v.key).times.length === 0) throw new Error(`${v.key} keeps failing; stopping`);
      }
    }
    process.stderr.write(`\rround ${i + 1}/${total}${i < warmup ? ' (warm-up)' : ''}   `);
  }
  process.stderr.write('\n');
  return res;
}
