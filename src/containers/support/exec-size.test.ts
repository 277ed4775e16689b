import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExecSize, MAX_ENV_ENTRIES } from './exec-size.js';

test('checkExecSize: a normal env passes; too many variables, a 128 KiB string or a total over the stack budget fail', () => {
  checkExecSize(['sh', '-c', 'true'], ['PATH=/bin', 'A=b']);
  assert.throws(() => checkExecSize(['true'], Array.from({ length: MAX_ENV_ENTRIES + 1 }, (_, i) => `V${i}=1`)), /variables/);
  assert.throws(() => checkExecSize(['true'], [`A=${'x'.repeat(128 * 1024)}`]), /more than the kernel's 131072/);
  // 30 × 100 KiB = 3 MiB: over 8 MiB / 4 by default, within 6 MiB when the stack is unlimited.
  const env = Array.from({ length: 30 }, (_, i) => `V${i}=${'x'.repeat(100 * 1024)}`);
  assert.throws(() => checkExecSize(['true'], env), /argument list too long/);
  checkExecSize(['true'], env, [{ Name: 'stack', Soft: -1 }]);
  assert.throws(() => checkExecSize(['true'], env, [{ Name: 'stack', Soft: 1 << 20 }]), /argument list too long/);
});
