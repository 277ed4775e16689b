import { prepareFloor, conmonRun, floorCleanup, withEngineSpec } from './lib/floor.mjs';
import { busyboxTar, tempDir, startBerthd, engineSpec } from './lib/engines.mjs';
const tar = await busyboxTar();
const f = await prepareFloor(await tempDir('bf-'), tar);
const b = await startBerthd({ tar });
const g = await withEngineSpec(f, await engineSpec(b));
const noSec = await withEngineSpec(f, await engineSpec(b)); delete noSec.spec.linux.seccomp;
f.phases = []; g.phases = []; noSec.phases = [];
for (let i = 0; i < 15; i++) { await conmonRun(f); await conmonRun(g); await conmonRun(noSec); }
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(1); };
for (const [n, x] of [['bare', f], ['berthd spec', g], ['berthd spec no seccomp', noSec]]) {
  const p = x.phases.slice(2);
  console.log(n, Object.keys(p[0]).map((k) => `${k} ${med(p.map((q) => q[k]))}`).join(' · '));
}
await floorCleanup(f); await b.stop?.();
process.exit(0);
