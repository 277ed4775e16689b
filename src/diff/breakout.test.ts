/**
 * moby's testBreakout idea: a victim dir beside the target; after each hostile
 * layer, nothing outside the target may have changed, and the apply either refused
 * with a clear error or kept the entry inside the target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readdir, lstat, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayer } from './index.js';
import { makeTar, type TestEntry } from './test-tar.js';
import { isBerthError } from '../common/errors.js';

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      let extra = '';
      if (st.isFile()) extra = (await readFile(p)).toString('base64');
      if (st.isSymbolicLink()) extra = await readlink(p);
      out.push(`${p} ${st.mode} ${st.uid}:${st.gid} ${st.nlink} ${st.mtimeMs} ${extra}`);
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk(dir);
  return out;
}

type Case = { name: string; entries: (victim: string) => TestEntry[]; refuse?: boolean };

const cases: Case[] = [
  { name: 'dot-dot file', refuse: true, entries: () => [{ name: '../victim/hello', content: 'pwned' }] },
  { name: 'dot-dot new file', refuse: true, entries: () => [{ name: '../victim/new', content: 'pwned' }] },
  { name: 'dot-dot in the middle', refuse: true, entries: () => [{ name: 'a/../../victim/hello', content: 'pwned' }] },
  { name: 'deep dot-dot', refuse: true, entries: () => [{ name: '../../../../../../../../victim/hello', content: 'pwned' }] },
  { name: 'absolute path is contained', entries: (v) => [{ name: join(v, 'hello'), content: 'pwned' }] },
  { name: 'file through relative symlink', refuse: true, entries: () => [
    { name: 'loophole', type: 'symlink', linkname: '../victim' },
    { name: 'loophole/hello', content: 'pwned' }] },
  { name: 'file through absolute symlink', refuse: true, entries: (v) => [
    { name: 'loophole', type: 'symlink', linkname: v },
    { name: 'loophole/new', content: 'pwned' }] },
  { name: 'nested dir through symlink', refuse: true, entries: () => [
    { name: 'd', type: 'symlink', linkname: '../victim' },
    { name: 'd/sub/x', content: 'pwned' }] },
  { name: 'symlink then file of the same name replaces the link', entries: () => [
    { name: 'loophole', type: 'symlink', linkname: '../victim/hello' },
    { name: 'loophole', content: 'pwned' }] },
  { name: 'symlink then dir of the same name replaces the link (chmod CVE-2021-32760)', entries: () => [
    { name: 'loophole', type: 'symlink', linkname: '../victim' },
    { name: 'loophole/', type: 'directory', mode: 0o777 }] },
  { name: 'hardlink escaping by dot-dot', refuse: true, entries: () => [
    { name: 'loophole', type: 'link', linkname: '../victim/hello' }] },
  { name: 'hardlink by absolute path stays inside (target absent)', refuse: true, entries: (v) => [
    { name: 'loophole', type: 'link', linkname: join(v, 'hello') }] },
  { name: 'hardlink through a symlink', refuse: true, entries: () => [
    { name: 'sym', type: 'symlink', linkname: '../victim' },
    { name: 'loophole', type: 'link', linkname: 'sym/hello' }] },
  { name: 'hardlink to a symlink then overwrite', entries: () => [
    { name: 'sym', type: 'symlink', linkname: '../victim/hello' },
    { name: 'loophole', type: 'link', linkname: 'sym' },
    { name: 'loophole', content: 'pwned' },
    { name: 'sym', content: 'pwned' }] },
  { name: 'whiteout through symlink', refuse: true, entries: () => [
    { name: 'sym', type: 'symlink', linkname: '../victim' },
    { name: 'sym/.wh.hello', content: '' }] },
  { name: 'opaque marker through symlink', refuse: true, entries: () => [
    { name: 'sym', type: 'symlink', linkname: '../victim' },
    { name: 'sym/.wh..wh..opq', content: '' }] },
  { name: 'whiteout by dot-dot', refuse: true, entries: () => [{ name: '../victim/.wh.hello', content: '' }] },
  // A whiteout's own name must not climb: ".wh..." at the top is the layer root's parent.
  { name: 'whiteout of dot-dot at the top', refuse: true, entries: () => [{ name: '.wh...', content: '' }] },
  { name: 'whiteout of dot-dot in a dir', refuse: true, entries: () => [{ name: 'd/.wh...', content: '' }] },
  { name: 'whiteout of dot', refuse: true, entries: () => [{ name: 'd/.wh..', content: '' }] },
  { name: 'whiteout of the empty name', refuse: true, entries: () => [{ name: '.wh.', content: '' }] },
  { name: 'device node by dot-dot', refuse: true, entries: () => [
    { name: '../victim/null', type: 'character-device', devmajor: 1, devminor: 3 }] },
  { name: 'file under a regular file', refuse: true, entries: () => [
    { name: 'f', content: 'x' }, { name: 'f/g', content: 'y' }] },
  // apply.ts caches verified dirs: replacing one must forget it (and all below it).
  { name: 'cached dir replaced by a symlink', refuse: true, entries: () => [
    { name: 'd/', type: 'directory' }, { name: 'd/sub/', type: 'directory' }, { name: 'd/sub/x', content: 'ok' },
    { name: 'd', type: 'symlink', linkname: '../victim' },
    { name: 'd/hello', content: 'pwned' }] },
  { name: 'cached subdir replaced by a symlink', refuse: true, entries: () => [
    { name: 'd/sub/x', content: 'ok' },
    { name: 'd/sub', type: 'symlink', linkname: '../../victim' },
    { name: 'd/sub/hello', content: 'pwned' }] },
  { name: 'cached dir whited out, then used as a parent', refuse: true, entries: () => [
    { name: 'd/x', content: 'ok' },
    { name: '.wh.d', content: '' },
    { name: 'd/y', content: 'pwned' }] },
  { name: 'cached dir replaced by a symlink, then hard-linked through', refuse: true, entries: () => [
    { name: 'd/x', content: 'ok' },
    { name: 'd', type: 'symlink', linkname: '../victim' },
    { name: 'loophole', type: 'link', linkname: 'd/hello' }] },
  { name: 'symlink chain through two links', refuse: true, entries: () => [
    { name: 'a', type: 'symlink', linkname: 'b' },
    { name: 'b', type: 'symlink', linkname: '../victim' },
    { name: 'a/hello', content: 'pwned' }] },
];

test('hostile layers never touch anything outside the target', { timeout: 30_000 }, async () => {
  const base = await mkdtemp(join(tmpdir(), 'berth-breakout-'));
  try {
    for (const c of cases) {
      const tmp = join(base, c.name.replace(/[^a-z0-9]+/gi, '-'));
      const victim = join(tmp, 'victim');
      const dest = join(tmp, 'dest');
      await mkdir(victim, { recursive: true });
      await mkdir(dest);
      await writeFile(join(victim, 'hello'), 'hello');
      const before = await snapshot(victim);
      const topBefore = (await readdir(tmp)).sort();
      const data = await makeTar(c.entries(victim));
      let error: unknown;
      try {
        await applyLayer(Readable.from([data]), dest);
      } catch (err) {
        error = err;
      }
      assert.deepEqual(await snapshot(victim), before, `${c.name}: victim changed`);
      assert.deepEqual((await readdir(tmp)).sort(), topBefore, `${c.name}: new file beside the target`);
      assert.ok((await lstat(dest)).isDirectory(), `${c.name}: the target itself was replaced`);
      if (c.refuse) {
        assert.ok(isBerthError(error, 'INVALID_ARGUMENT'), `${c.name}: expected a refusal, got ${String(error)}`);
        assert.match((error as Error).message, /layer entry/);
      } else {
        assert.equal(error, undefined, `${c.name}: unexpected error ${String(error)}`);
      }
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
