import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBundle } from './code-cache.js';

/** A CommonJS "bundle" that reports its wrapper arguments through a global. */
const BUNDLE = `
const path = require('node:path');
globalThis.__codeCacheTest = { exports: typeof exports, file: __filename, dir: __dirname, base: path.basename(__filename), self: module.exports === exports };
function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
globalThis.__codeCacheTest.sum = work(100);
`;

function setup(source = BUNDLE): { dir: string; bundle: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-code-cache-'));
  const bundle = join(dir, 'cli.cjs');
  writeFileSync(bundle, source);
  return { dir, bundle, cache: `${bundle}.cache` };
}

const seen = () => (globalThis as { __codeCacheTest?: Record<string, unknown> }).__codeCacheTest;

test('runs the bundle as CommonJS; a cache is written on save() and used next time', (t) => {
  const { dir, bundle, cache } = setup();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = runBundle(bundle);
  assert.equal(first.status, 'missing');
  assert.deepEqual(seen(), { exports: 'object', file: bundle, dir, base: 'cli.cjs', self: true, sum: 4950 });
  assert.equal(first.save(), true);
  assert.ok(existsSync(cache));
  assert.deepEqual(readdirSync(dir).sort(), ['cli.cjs', 'cli.cjs.cache'], 'no temp file left');
  assert.equal(runBundle(bundle).status, 'hit');
  assert.equal(seen()!.sum, 4950);
});

test('a corrupt cache is ignored (never handed to V8) and regenerated', (t) => {
  const { dir, bundle, cache } = setup();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  runBundle(bundle).save();
  const good = readFileSync(cache);
  // Flip bytes all over the payload: V8 would abort the process on such data.
  const bad = Buffer.from(good);
  for (let i = good.indexOf(10) + 1; i < bad.length; i += 7) bad[i]! ^= 0x5a;
  writeFileSync(cache, bad);
  const r = runBundle(bundle);
  assert.equal(r.status, 'corrupt');
  assert.equal(seen()!.sum, 4950);
  assert.equal(r.save(), true);
  assert.equal(runBundle(bundle).status, 'hit');
  // Truncated, empty, or not a cache at all.
  for (const junk of [good.subarray(0, good.length - 100), Buffer.alloc(0), Buffer.from('garbage\n'), Buffer.alloc(4096, 0x41)]) {
    writeFileSync(cache, junk);
    const j = runBundle(bundle);
    assert.ok(j.status === 'corrupt' || j.status === 'stale', `junk of ${junk.length} bytes: ${j.status}`);
  }
});

test('a cache made for another bundle or another node is stale, even at the same length', (t) => {
  const { dir, bundle, cache } = setup();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  runBundle(bundle).save();
  // Same length, different code: V8 alone would accept the cache (it checks only the length).
  const other = BUNDLE.replace('s += i', 's -= i');
  assert.equal(other.length, BUNDLE.length);
  writeFileSync(bundle, other);
  const r = runBundle(bundle);
  assert.equal(r.status, 'stale');
  assert.equal(seen()!.sum, -4950, 'the new code ran');
  r.save();
  assert.equal(runBundle(bundle).status, 'hit');
  assert.equal(seen()!.sum, -4950);
  // Another node version in the header.
  const text = readFileSync(cache);
  writeFileSync(cache, Buffer.from(text.toString('latin1').replace(`node-${process.versions.node}`, 'node-0.0.1'), 'latin1'));
  assert.equal(runBundle(bundle).status, 'stale');
});

test('a cache that cannot be written runs uncached without failing; the cache can be turned off', (t) => {
  const { dir, bundle } = setup();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A directory that does not exist fails like a read-only install (root ignores mode bits).
  const nowhere = join(dir, 'no-such-dir', 'cli.cjs.cache');
  const r = runBundle(bundle, nowhere);
  assert.equal(r.status, 'missing');
  assert.equal(r.save(), false);
  assert.equal(seen()!.sum, 4950);
  const off = runBundle(bundle, `${bundle}.cache`, false);
  assert.equal(off.status, 'disabled');
  assert.equal(off.save(), false);
  assert.ok(!existsSync(`${bundle}.cache`));
});
