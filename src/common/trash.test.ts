import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrashCollector } from './trash.js';

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, 'timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('trash: deleted once removals pause, at the latest after the maximum delay; drain deletes at once', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-trash-'));
  try {
    const dir = async (n: string) => {
      const p = join(root, n);
      await mkdir(join(p, 'sub'), { recursive: true });
      await writeFile(join(p, 'sub', 'f'), 'x');
      return p;
    };
    const t = new TrashCollector(40, 200);
    const a = await dir('a');
    t.add(a);
    assert.ok(existsSync(a), 'not deleted synchronously');
    await until(() => !existsSync(a), 1000);

    // Removals that keep coming (every ~15 ms, under the 40 ms pause) are still deleted by the maximum delay.
    const started = Date.now();
    const keep: string[] = [];
    let deletedDuringStream = false;
    while (Date.now() - started < 600) {
      const p = await dir(`b${keep.length}`);
      keep.push(p);
      t.add(p);
      if (!existsSync(keep[0]!)) { deletedDuringStream = true; break; }
      await new Promise((r) => setTimeout(r, 15));
    }
    assert.ok(deletedDuringStream, 'a steady stream of removals postponed the deletion past the maximum delay');

    const c = await dir('c');
    t.add(c);
    await t.drain();
    assert.equal(existsSync(c), false);
    assert.equal(t.pending, 0);
    await t.drain();
    for (const p of keep) assert.equal(existsSync(p), false, p);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
