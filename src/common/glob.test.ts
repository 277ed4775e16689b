import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goPathPattern } from './glob.js';

const m = (p: string, s: string) => goPathPattern(p)!.test(s);

test('Go path.Match semantics: * and ? stop at /, classes, escapes, bad patterns', () => {
  assert.equal(m('src/*.txt', 'src/a.txt'), true);
  assert.equal(m('src/*.txt', 'src/sub/a.txt'), false);
  assert.equal(m('a?c', 'abc'), true);
  assert.equal(m('a?c', 'a/c'), false);
  assert.equal(m('[a-c]x', 'bx'), true);
  assert.equal(m('[!a-c]x', 'bx'), false);
  assert.equal(m('[^a-c]x', 'dx'), true);
  assert.equal(m('\\*.txt', '*.txt'), true);
  assert.equal(m('\\*.txt', 'a.txt'), false);
  assert.equal(m('a.b', 'axb'), false, 'a dot is literal');
  assert.equal(m('busybox:*', 'busybox:latest'), true);
  assert.equal(goPathPattern('[abc'), undefined);
});
