import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { matchInImage } from './copy-from.js';
import type { WorkContainers } from './work-container.js';

/** A fake source container whose /out holds `names` (docker cp's tar: top entry "out"). */
function fakeWork(names: string[]): { work: WorkContainers; asked: string[] } {
  const asked: string[] = [];
  const work = {
    kind: async (_id: string, p: string) => (p === '/out' || p === '/' ? { kind: 'dir', path: p } : undefined),
    get: async (_id: string, p: string) => {
      asked.push(p);
      const pack = tar.pack();
      pack.entry({ name: 'out/', type: 'directory' });
      for (const n of names) pack.entry({ name: `out/${n}` }, 'x');
      pack.finalize();
      const out = new PassThrough();
      pack.pipe(out);
      return { tar: out, done: Promise.resolve(), isDir: true };
    },
  } as unknown as WorkContainers;
  return { work, asked };
}

test('COPY --from globs match like Go path.Match, listing only the directory above the wildcard', async () => {
  const { work, asked } = fakeWork(['b.txt', 'a.txt', 'c.log', 'sub/', 'sub/d.txt', '.hidden.txt']);
  assert.deepEqual(await matchInImage(work, 'c', '/out/*.txt'), ['/out/.hidden.txt', '/out/a.txt', '/out/b.txt']);
  assert.deepEqual(await matchInImage(work, 'c', 'out/[!a]*'), ['/out/.hidden.txt', '/out/b.txt', '/out/c.log', '/out/sub']);
  assert.deepEqual(await matchInImage(work, 'c', '/out/*/d.txt'), ['/out/sub/d.txt']);
  assert.deepEqual(await matchInImage(work, 'c', '/out/?.none'), []);
  assert.deepEqual(await matchInImage(work, 'c', '/nowhere/*'), []);
  assert.deepEqual(asked, ['/out', '/out', '/out', '/out']);
  await assert.rejects(matchInImage(work, 'c', '/out/[a'), /syntax error in pattern/);
});
