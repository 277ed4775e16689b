import type { ImageRuntimeConfig } from '../oci/image-spec.js';
import { expandExposedPort } from '../oci/ports.js';
import { invalidArgument } from '../common/errors.js';

/**
 * The Dockerfile instructions `docker import --change` and `docker commit --change`
 * accept, applied to an image's runtime config.
 */
const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

export function applyChanges(base: ImageRuntimeConfig, changes: string[]): ImageRuntimeConfig {
  const cfg: ImageRuntimeConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (!ALLOWED.has(instr)) throw invalidArgument(`${m[1]} is not a valid change command`);
    switch (instr) {
      case 'CMD':
        cfg.Cmd = execOrShell(args, instr);
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = execOrShell(args, instr);
        // As in a Dockerfile, a new ENTRYPOINT resets an inherited CMD.
        if (!changes.some((c) => /^\s*CMD\b/i.test(c))) cfg.Cmd = null;
        break;
      case 'ENV':
        for (const [k, v] of keyValues(args, instr)) {
          const env = (cfg.Env ?? []).filter((e) => e.split('=')[0] !== k);
          env.push(`${k}=${v}`);
          cfg.Env = env;
        }
        break;
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues(args, instr)) cfg.Labels[k] = v;
        break;
      case 'EXPOSE':
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of words(args)) {
          // One key per port, each 1-65535: what a container create accepts.
          const keys = expandExposedPort(p);
          if (keys.length === 0) throw invalidArgument(`EXPOSE: invalid port "${p}": want PORT[-PORT][/tcp|udp|sctp] with ports 1-65535`);
          for (const k of keys) cfg.ExposedPorts[k] = {};
        }
        break;
      case 'VOLUME': {
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        const vols = args.startsWith('[') ? jsonArray(args, instr) : words(args);
        if (vols.length === 0) throw invalidArgument('VOLUME requires at least one argument');
        for (const v of vols) cfg.Volumes[v] = {};
        break;
      }
      case 'WORKDIR': {
        const w = single(args, instr);
        // A relative WORKDIR is relative to the previous one, as in a Dockerfile.
        cfg.WorkingDir = w.startsWith('/') ? w : `${(cfg.WorkingDir ?? '/').replace(/\/$/, '')}/${w}`;
        break;
      }
      case 'USER':
        cfg.User = single(args, instr);
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = single(args, instr);
        break;
      case 'ONBUILD':
        if (!args) throw invalidArgument('ONBUILD requires at least one argument');
        cfg.OnBuild = [...(cfg.OnBuild ?? []), args];
        break;
    }
  }
  return cfg;
}

function execOrShell(args: string, instr: string): string[] {
  if (args.startsWith('[')) {
    try {
      return jsonArray(args, instr);
    } catch {
      // Not valid JSON: docker falls back to the shell form.
    }
  }
  if (!args) throw invalidArgument(`${instr} requires at least one argument`);
  return ['/bin/sh', '-c', args];
}

function jsonArray(args: string, instr: string): string[] {
  const v: unknown = JSON.parse(args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`${instr}: expected a JSON array of strings`);
  return v as string[];
}

function single(args: string, instr: string): string {
  const w = words(args);
  if (w.length !== 1) throw invalidArgument(`${instr} requires exactly one argument`);
  return w[0]!;
}

/** "k=v k2='v 2'" or the legacy "k value with spaces". */
function keyValues(args: string, instr: string): Array<[string, string]> {
  const w = words(args);
  if (w.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  if (!w[0]!.includes('=')) {
    if (w.length < 2) throw invalidArgument(`${instr} ${w[0]}: missing a value`);
    return [[w[0]!, args.slice(args.indexOf(w[0]!) + w[0]!.length).trim()]];
  }
  return w.map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw invalidArgument(`${instr}: "${kv}" is not key=value`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

/** Split on blanks, honouring single and double quotes and backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw invalidArgument(`unterminated quote in "${s}"`);
  if (has) out.push(cur);
  return out;
}
