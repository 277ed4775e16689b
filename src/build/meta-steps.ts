/**
 * The instructions that change only the image config (no layer): ENV, LABEL,
 * MAINTAINER, EXPOSE, VOLUME, USER, STOPSIGNAL, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
 * ONBUILD. Pure: each gives the new config and the history line docker records.
 */
import { invalidArgument } from '../common/errors.js';
import type { ImageConfigFile, ImageRuntimeConfig } from '../oci/image-spec.js';
import { expandExposedPort } from '../oci/ports.js';
import type { Instruction } from './dockerfile-parse.js';
import { expandWord, keyValuePairs, splitWords, type Lookup } from './shell-words.js';
import { setEnv } from './image-state.js';

export interface MetaContext {
  escape: string;
  lookup: Lookup;
  /** Set once CMD ran in this stage: a later ENTRYPOINT then keeps it. */
  cmdSet: boolean;
}

export const META = new Set(['ENV', 'LABEL', 'MAINTAINER', 'EXPOSE', 'VOLUME', 'USER', 'STOPSIGNAL', 'CMD', 'ENTRYPOINT', 'SHELL', 'HEALTHCHECK', 'ONBUILD']);

export function shellOf(c: ImageRuntimeConfig | undefined): string[] {
  return c?.Shell?.length ? c.Shell : ['/bin/sh', '-c'];
}

/** Exec form as is; shell form through the image's SHELL. */
export function commandOf(inst: Instruction, c: ImageRuntimeConfig | undefined): string[] {
  if (inst.json) return inst.json;
  return [...shellOf(c), inst.args];
}

/** Applies inst to config (in place) and gives the text after "#(nop) " in the history. */
export function applyMeta(inst: Instruction, config: ImageConfigFile, ctx: MetaContext): string {
  const c: ImageRuntimeConfig = (config.config ??= {});
  const word = (w: string) => expandWord(w, ctx.lookup, ctx.escape);
  const words = () => splitWords(inst.args, ctx.escape).map(word);
  const one = () => {
    const w = words();
    if (w.length !== 1) throw invalidArgument(`${inst.cmd} requires exactly one argument (line ${inst.line})`);
    return w[0]!;
  };
  switch (inst.cmd) {
    case 'ENV': {
      const pairs = keyValuePairs(inst.args, ctx.lookup, ctx.escape, 'ENV');
      for (const [k, v] of pairs) c.Env = setEnv(c.Env, k, v);
      return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'LABEL': {
      const pairs = keyValuePairs(inst.args, ctx.lookup, ctx.escape, 'LABEL');
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of pairs) c.Labels[k] = v;
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'MAINTAINER': {
      if (!inst.args) throw invalidArgument('MAINTAINER requires exactly one argument');
      config.author = inst.args;
      return `MAINTAINER ${inst.args}`;
    }
    case 'EXPOSE': {
      const ports = words();
      if (ports.length === 0) throw invalidArgument('EXPOSE requires at least one argument');
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) {
        if (!/^\d+(?:-\d+)?(?:\/(tcp|udp|sctp))?$/i.test(p)) throw invalidArgument(`EXPOSE: invalid containerPort: ${p}`);
        // One key per port, each 1-65535: what a container create accepts.
        const keys = expandExposedPort(p);
        if (keys.length === 0) throw invalidArgument(`EXPOSE: invalid port range: ${p}: ports are 1-65535`);
        for (const k of keys) c.ExposedPorts[k] = {};
      }
      return `EXPOSE ${ports.join(' ')}`;
    }
    case 'VOLUME': {
      const vols = inst.json ? inst.json.map(word) : words();
      if (vols.length === 0 || vols.some((v) => !v.trim())) throw invalidArgument('VOLUME specified can not be an empty string');
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) c.Volumes[v] = {};
      return `VOLUME [${vols.map((v) => JSON.stringify(v)).join(' ')}]`;
    }
    case 'USER':
      c.User = one();
      return `USER ${c.User}`;
    case 'STOPSIGNAL': {
      const s = one();
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(s)) throw invalidArgument(`STOPSIGNAL: invalid signal: ${s}`);
      c.StopSignal = s;
      return `STOPSIGNAL ${s}`;
    }
    case 'CMD':
      c.Cmd = commandOf(inst, c);
      ctx.cmdSet = true;
      return `CMD ${JSON.stringify(c.Cmd)}`;
    case 'ENTRYPOINT':
      c.Entrypoint = inst.json ? inst.json : inst.args ? [...shellOf(c), inst.args] : null;
      if (!ctx.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${JSON.stringify(c.Entrypoint)}`;
    case 'SHELL':
      if (!inst.json || inst.json.length === 0) throw invalidArgument('SHELL requires the arguments to be in JSON form');
      c.Shell = inst.json;
      return `SHELL ${JSON.stringify(c.Shell)}`;
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(inst, c);
      return `HEALTHCHECK &{${JSON.stringify(c.Healthcheck.Test)}}`;
    case 'ONBUILD': {
      const t = inst.args.trim();
      const kw = t.split(/\s+/)[0]!.toUpperCase();
      if (!t) throw invalidArgument('ONBUILD requires at least one argument');
      if (kw === 'ONBUILD') throw invalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (kw === 'FROM' || kw === 'MAINTAINER') throw invalidArgument(`${kw} isn't allowed as an ONBUILD trigger`);
      c.OnBuild = [...(c.OnBuild ?? []), t];
      return `ONBUILD ${t}`;
    }
  }
  throw invalidArgument(`${inst.cmd} is not a metadata instruction`);
}

const UNIT: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function duration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  let total = 0;
  let rest = v;
  // Go durations: "1m30s" is a sum of terms.
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw invalidArgument(`HEALTHCHECK: invalid --${flag} duration "${v}"`);
    total += Number(m[1]) * UNIT[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (v === '0') return 0;
  return Math.round(total);
}

function healthcheck(inst: Instruction, c: ImageRuntimeConfig): NonNullable<ImageRuntimeConfig['Healthcheck']> {
  const kw = inst.args.split(/\s+/)[0]!.toUpperCase();
  if (kw === 'NONE') {
    if (inst.args.trim().split(/\s+/).length > 1) throw invalidArgument('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kw !== 'CMD') throw invalidArgument(`Unknown type "${kw}" in HEALTHCHECK (try CMD)`);
  const rest = inst.args.trim().slice(3).trim();
  if (!rest) throw invalidArgument('HEALTHCHECK CMD requires a command');
  let test: string[];
  try {
    const v: unknown = rest.startsWith('[') ? JSON.parse(rest) : undefined;
    test = Array.isArray(v) && v.every((x) => typeof x === 'string') ? ['CMD', ...(v as string[])] : ['CMD-SHELL', rest];
  } catch {
    test = ['CMD-SHELL', rest];
  }
  const f = inst.flags;
  const retries = f.retries !== undefined ? Number(f.retries) : undefined;
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw invalidArgument(`HEALTHCHECK: invalid --retries "${f.retries}"`);
  const hc: NonNullable<ImageRuntimeConfig['Healthcheck']> = { Test: test };
  const put = (k: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval', flag: string) => {
    const d = duration(flag, f[flag]);
    if (d !== undefined) (hc as Record<string, unknown>)[k] = d;
  };
  put('Interval', 'interval');
  put('Timeout', 'timeout');
  put('StartPeriod', 'start-period');
  put('StartInterval', 'start-interval');
  if (retries !== undefined) hc.Retries = retries;
  return hc;
}
