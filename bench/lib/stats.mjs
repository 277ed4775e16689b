/**
 * Small statistics and table printing for the benches. Percentiles use the
 * nearest-rank method so a p90 is always a time that was actually measured.
 */

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values) {
  const n = values.length;
  return {
    n,
    median: percentile(values, 50),
    p90: percentile(values, 90),
    min: n ? Math.min(...values) : NaN,
    max: n ? Math.max(...values) : NaN,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** A markdown table: one row per variant, times in milliseconds. */
export function table(rows) {
  const head = ['variant', 'n', 'median ms', 'p90 ms', 'min ms', 'max ms', 'errors'];
  const lines = [head, head.map(() => '---')];
  for (const r of rows) {
    const s = summarize(r.times);
    lines.push([r.label, String(s.n), ms(s.median), ms(s.p90), ms(s.min), ms(s.max), String(r.errors ?? 0)]);
  }
  return lines.map((cols) => `| ${cols.join(' | ')} |`).join('\n');
}

/** Ratio lines: "name: x.xx (target <= t) ok|MISSED". */
export function ratios(rows, specs) {
  const med = new Map(rows.map((r) => [r.key, summarize(r.times).median]));
  const p90 = new Map(rows.map((r) => [r.key, summarize(r.times).p90]));
  const out = [];
  for (const { num, den, target } of specs) {
    if (!med.has(num) || !med.has(den)) continue;
    const r = med.get(num) / med.get(den);
    const r90 = p90.get(num) / p90.get(den);
    const verdict = target === undefined ? '' : r <= target ? ` (target <= ${target}: ok)` : ` (target <= ${target}: MISSED)`;
    out.push(`- ${num}/${den}: median ${r.toFixed(2)}, p90 ${r90.toFixed(2)}${verdict}`);
  }
  return out.join('\n');
}
