/**
 * `--security-opt`, checked and rewritten client-side as docker's CLI does
 * (cli/command/container/opts.go): every option but no-new-privileges needs a value
 * (`key=value`, or the legacy `key:value`); `seccomp=<file>` sends the file's JSON
 * (compacted) instead of its path, since the daemon may not see the client's files;
 * `systempaths=unconfined` becomes empty MaskedPaths and ReadonlyPaths.
 * The values themselves are the daemon's to judge (it rejects unknown keys).
 */
import { readFileSync } from 'node:fs';
import { CliError } from './errors.js';

export interface SecurityOpts {
  securityOpt: string[];
  /** Set (to []) by systempaths=unconfined. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** Node's errno text in Go's os.PathError shape: `open <path>: no such file or directory`. */
function openError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory' };
  return `open ${path}: ${(code && why[code]) ?? (err as Error).message}`;
}

export function parseSecurityOpts(list: readonly string[], read = (p: string) => readFileSync(p, 'utf8')): SecurityOpts {
  const out: SecurityOpts = { securityOpt: [] };
  for (const opt of list) {
    let cut = opt.indexOf('=');
    if (cut < 0 && opt !== 'no-new-privileges') cut = opt.indexOf(':');
    const key = cut < 0 ? opt : opt.slice(0, cut);
    const value = cut < 0 ? '' : opt.slice(cut + 1);
    if (value === '' && key !== 'no-new-privileges') throw new CliError(`Invalid --security-opt: ${JSON.stringify(opt)}`, 125);
    if (opt === 'systempaths=unconfined') {
      out.maskedPaths = [];
      out.readonlyPaths = [];
      continue;
    }
    if (key === 'seccomp' && value !== 'builtin' && value !== 'unconfined') {
      let text: string;
      try {
        text = read(value);
      } catch (err) {
        throw new CliError(`opening seccomp profile (${value}) failed: ${openError(value, err)}`, 125);
      }
      let profile: unknown;
      try {
        profile = JSON.parse(text);
      } catch (err) {
        throw new CliError(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`, 125);
      }
      out.securityOpt.push(`seccomp=${JSON.stringify(profile)}`);
      continue;
    }
    out.securityOpt.push(opt);
  }
  return out;
}
