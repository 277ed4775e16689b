#!/usr/bin/env node
// Enforces shared/ARCHITECTURE.md's layering: imports point down only, and the CLI
// reaches the engine through the API alone (it may import api/types, oci and common).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const LEVEL = {
  common: 0, oci: 1, events: 1, mount: 1,
  content: 2, snapshots: 2, 'registry-client': 2, network: 2,
  cgroups: 2,
  diff: 3, metadata: 3,
  images: 4, runtime: 4, volumes: 4,
  containers: 5, build: 6, api: 7, 'registry-server': 7, cri: 7, daemon: 8,
  testing: 9, integration: 10,
};
const CLI_ALLOWED = ['common', 'oci', 'api/types.ts', 'api/wire'];

function walk(dir, out = []) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

const src = resolve('src');
const problems = [];
for (const file of walk(src)) {
  const rel = relative(src, file);
  const area = rel.split('/')[0];
  const text = readFileSync(file, 'utf8');
  const isTest = file.endsWith('.test.ts');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = relative(src, resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
    const tArea = target.split('/')[0];
    if (tArea === area || tArea.startsWith('..')) continue;
    if (area === 'cli') {
      if (!CLI_ALLOWED.some((a) => target === a || target.startsWith(a + '/') || target.startsWith(a))) problems.push(`${rel}: the CLI may only use the API, but imports ${target}`);
      continue;
    }
    if (isTest) continue; // tests may exercise a service together with those above it
    if (!(area in LEVEL)) { problems.push(`${rel}: folder ${area} has no layer in scripts/check-layers.mjs`); continue; }
    if (!(tArea in LEVEL)) continue;
    if (LEVEL[tArea] >= LEVEL[area]) problems.push(`${rel}: ${area} must not import ${target} (${tArea} is not below it)`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
