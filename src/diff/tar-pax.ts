import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * tar-stream decodes every PAX record value as UTF-8, which corrupts binary xattr
 * values (SCHILY.xattr.security.capability holds raw bytes). We replace its
 * decoder once so SCHILY.xattr.* values keep their bytes as a latin1 string
 * (Buffer.from(v, 'latin1') gives them back); every other record is still UTF-8.
 * headers.js is not in tar-stream's export map, so it is loaded by file path.
 */
let patched = false;

export const XATTR_PREFIX = 'SCHILY.xattr.';

export function patchTarStreamPax(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const headers = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as {
    decodePax: (buf: Buffer) => Record<string, string>;
  };
  headers.decodePax = function decodePax(buf: Buffer): Record<string, string> {
    const result: Record<string, string> = {};
    while (buf.length) {
      let i = 0;
      while (i < buf.length && buf[i] !== 32) i++;
      const len = parseInt(buf.toString('latin1', 0, i), 10);
      if (!len || len > buf.length) return result;
      const rec = buf.subarray(i + 1, len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq === -1) return result;
      const key = rec.toString('utf8', 0, eq);
      result[key] = rec.toString(key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8', eq + 1);
      buf = buf.subarray(len);
    }
    return result;
  };
}
