import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goSprint, goSprintf } from './go-printf.js';
import { Template } from './template.js';

test('goSprintf: widths, flags, precisions and verbs as Go prints them', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['%-10s|%10s|', ['/zc-a', '/zc-a'], '/zc-a     |     /zc-a|'],
    ['%5d|%05d|%+d|%-4d|', [42, 42, 42, 7], '   42|00042|+42|7   |'],
    ['%05d', [-42], '-0042'],
    ['%.2f|%8.3f|%f', [3.14159, 2.5, 1], '3.14|   2.500|1.000000'],
    ['%e|%E', [1234.5678, 0.00012], '1.234568e+03|1.200000E-04'],
    ['%g|%.3g|%g|%.3g|%g', [0.000012, 1234.5678, 1234.5678, 1.2, -2.5e21], '1.2e-05|1.23e+03|1234.5678|1.2|-2.5e+21'],
    ['%x|%X|%#x|%o|%b', [255, 255, 255, 8, 5], 'ff|FF|0xff|10|101'],
    ['%x', ['hi'], '6869'],
    ['%q|%q', ['a"b', ['sleep', '3600']], '"a\\"b"|["sleep" "3600"]'],
    ['%t|%c|%U', [true, 65, 0x1f600], 'true|A|U+1F600'],
    ['%T %T %T %T %T', ['s', 1, 1.5, true, [1]], 'string int float64 bool []interface {}'],
    ['%v|%s', [{ b: 1, a: 'x' }, null], 'map[a:x b:1]|<nil>'],
    ['%.3s', ['abcdef'], 'abc'],
    ['%*d|%-*d|', [4, 7, 3, 8], '   7|8  |'],
    ['100%%', [], '100%'],
  ];
  for (const [f, a, want] of cases) assert.equal(goSprintf(f, a), want, f);
});

test('goSprintf: Go\'s marks for a wrong, missing or extra operand', () => {
  assert.equal(goSprintf('%d', ['/zc-a']), '%!d(string=/zc-a)');
  assert.equal(goSprintf('%s %s', ['a']), 'a %!s(MISSING)');
  assert.equal(goSprintf('%s', ['a', 2]), 'a%!(EXTRA int=2)');
  assert.equal(goSprintf('%s', [5]), '%!s(int=5)');
});

test('goSprint and the template functions: print spaces two non-strings apart; printf formats', () => {
  assert.equal(goSprint(['/zc-a', 1, 2, 'a', 'b']), '/zc-a1 2ab');
  const t = new Template('{{printf "%-6s|%3d" .N .I}} {{print .I .I}}', {});
  assert.equal(t.execute({ N: 'ab', I: 4 }), 'ab    |  4 4 4');
});
