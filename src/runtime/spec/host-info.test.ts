import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { release } from 'node:os';
import { readHostInfo, x32AbiAvailable } from './host-info.js';

/** The kernel's own word on x32: its build config (and the boot switch Debian uses). */
function kernelX32(): boolean | undefined {
  let config: string | undefined;
  if (existsSync('/proc/config.gz')) config = gunzipSync(readFileSync('/proc/config.gz')).toString();
  else if (existsSync(`/boot/config-${release()}`)) config = readFileSync(`/boot/config-${release()}`, 'utf8');
  if (config === undefined) return undefined;
  if (!/^CONFIG_X86_X32_ABI=y$/m.test(config)) return false;
  const cmdline = readFileSync('/proc/cmdline', 'utf8');
  const sw = /\bsyscall\.x32=(\S+)/.exec(cmdline)?.[1];
  if (sw !== undefined) return /^(y|1|on|true)/i.test(sw);
  return !/^CONFIG_X86_X32_DISABLED=y$/m.test(config);
}

test('x32 probe agrees with the kernel config; the spec leaves x32 out only when it is off', { skip: process.arch !== 'x64' && 'x86_64 only' }, async () => {
  const expected = kernelX32();
  const probed = x32AbiAvailable();
  if (expected !== undefined) assert.equal(probed, expected);
  const info = await readHostInfo();
  const filtered = !/^Seccomp:\s*0$/m.test(readFileSync('/proc/self/status', 'utf8'));
  assert.deepEqual(info.unavailableSeccompArches, probed || filtered ? [] : ['SCMP_ARCH_X32']);
  // Asking twice is harmless (the probe is a plain getpid when the ABI is there).
  assert.equal(x32AbiAvailable(), probed);
});
