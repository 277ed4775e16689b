/**
 * docker's bool flags accept `--rm=false`; commander's do not. main.ts rewrites argv before
 * commander sees it: `=true` drops the value, `=false` drops the flag (or picks its --no- form).
 */
const NEGATABLE = new Set(['sig-proxy', 'human', 'trunc', 'stdin']);
const BOOLS = new Set(['oom-kill-disable', 'rm', 'detach', 'interactive', 'tty', 'init', 'privileged', 'read-only', 'all', 'quiet', 'no-trunc', 'force', 'digests', 'size', 'latest', 'follow', 'timestamps', 'publish-all', 'sig-proxy', 'human', 'no-stdin', 'attach', 'volumes', 'disable-content-trust', 'use-api-socket']);
export function rewriteBoolFlags(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.push(...args.slice(i)); break; }
    const m = /^--([\w-]+)=(true|false)$/.exec(a);
    if (!m || !BOOLS.has(m[1]!)) { out.push(a); continue; }
    if (m[2] === 'true') out.push(`--${m[1]}`);
    else if (NEGATABLE.has(m[1]!)) out.push(`--no-${m[1]}`);
  }
  return out;
}
