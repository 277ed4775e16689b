import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandWord, keyValuePairs, splitWords } from './shell-words.js';

const env: Record<string, string> = { A: 'x', EMPTY: '', SP: 'a b' };
const lookup = (n: string) => env[n];

test('variable forms as docker substitutes them', () => {
  assert.equal(expandWord('$A/${A}/$NOPE/${NOPE}', lookup), 'x/x//');
  assert.equal(expandWord('${NOPE:-d} ${EMPTY:-d} ${EMPTY-d} ${A:-d}', lookup), 'd d  x');
  assert.equal(expandWord('${A:+set} ${EMPTY:+set} ${EMPTY+set} ${NOPE+set}', lookup), 'set  set ');
  assert.equal(expandWord('${NOPE:-${A}}', lookup), 'x');
  assert.throws(() => expandWord('${NOPE:?is required}', lookup), /NOPE: is required/);
  assert.equal(expandWord('cost$', lookup), 'cost$');
});

test('quotes and escapes: single quotes keep $, double quotes expand, the escape char protects', () => {
  assert.equal(expandWord(`'$A'"$A"\\$A`, lookup), '$Ax$A');
  assert.equal(expandWord('"a \\"q\\" b"', lookup), 'a "q" b');
  assert.equal(expandWord('`$A', lookup, '`'), '$A');
  assert.throws(() => expandWord('"open', lookup), /double-quote/);
});

test('words and key=value pairs', () => {
  assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g`), ['a', '"b c"', "'d e'", 'f\\ g']);
  assert.deepEqual(keyValuePairs('K=$A J="$SP z" L=', lookup, '\\', 'ENV'), [['K', 'x'], ['J', 'a b z'], ['L', '']]);
  assert.deepEqual(keyValuePairs('K value with $A', lookup, '\\', 'ENV'), [['K', 'value with x']]);
  assert.throws(() => keyValuePairs('K', lookup, '\\', 'ENV'), /missing a value/);
});
