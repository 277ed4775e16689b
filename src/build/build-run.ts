/**
 * One build: every stage up to the target, step by step, with docker's classic output
 * ("Step n/m : ...", " ---> Using cache", " ---> Running in <id>", " ---> <image id>").
 * Each step goes through the layer cache unless nocache: the key is the parent image
 * id plus the step as it will run (expanded arguments, build args, file hashes).
 */
import { dirname, posix } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import type { ImageRecord } from '../images/index.js';
import { parseDockerfile, type Instruction } from './dockerfile-parse.js';
import type { Plan, Stage } from './stages.js';
import { fromImage } from './stages.js';
import { expandWord, splitWords, type Lookup } from './shell-words.js';
import { applyMeta, commandOf, META } from './meta-steps.js';
import { envMap, scratchState, stateId, stateOfImage, withDefaultPath, withLayer, withMeta, type ImageState } from './image-state.js';
import { BuildCache } from './cache.js';
import type { BuildImages } from './builder.js';
import type { WorkContainers } from './work-container.js';
import { packItems, parseCopy, planContextCopy, resolveOwner } from './copy-step.js';
import { copyFromImage } from './copy-from.js';
import { StepFailed, type BuildMessage, type BuildOptions } from './types.js';

/** Usable in RUN without an ARG line, and never recorded in the image's history. */
const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export interface RunDeps {
  plan: Plan;
  escape: '\\' | '`';
  ctxDir: string;
  opts: BuildOptions;
  emit: (m: BuildMessage) => void;
  images: BuildImages;
  work: WorkContainers;
  cache: BuildCache;
  resolveImage(ref: string): Promise<ImageRecord>;
}

interface StageState {
  image: ImageState;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

export class BuildRun {
  #step = 0;
  #results = new Map<number, ImageState>();
  #metaArgs = new Map<string, string | undefined>();
  #used = new Set<string>();

  constructor(private d: RunDeps) {}

  #out(text: string): void {
    this.d.emit({ stream: text });
  }

  async execute(): Promise<ImageState> {
    const { plan, escape } = this.d;
    for (const a of plan.metaArgs) for (const [k, v] of this.#argPairs(a, (n) => this.#metaArgs.get(n))) this.#metaArgs.set(k, v);
    const last = plan.stages.at(-1)!;
    const body = (s: Stage) => (s === last ? [...s.body, ...this.#labelSteps()] : s.body);
    const total = plan.total + Object.keys(this.d.opts.labels).length;
    let st!: StageState;
    for (const stage of plan.stages) {
      this.#out(`Step ${++this.#step}/${total} : ${stage.from.original}\n`);
      const from = await this.#from(stage, escape);
      // A base without PATH (an imported rootfs, like berth's busybox) gets the default one,
      // as with dockerd's builder (setDefaultPath): RUN finds its commands, `ENV PATH=/x:$PATH`
      // extends it, and the built image keeps it. Until a step commits, the image is the base.
      st = { image: withDefaultPath(from), args: new Map(), cmdSet: false };
      const pathed = st.image;
      await this.#triggers(st);
      let untouched = st.image === pathed;
      this.#out(` ---> ${short(stateId(untouched ? from : st.image))}\n`);
      for (const inst of body(stage)) {
        this.d.opts.signal?.throwIfAborted();
        this.#out(`Step ${++this.#step}/${total} : ${inst.original}\n`);
        st.image = await this.#dispatch(inst, st);
        untouched = false;
        await this.d.images.hold(st.image);
        this.#out(` ---> ${short(stateId(st.image))}\n`);
      }
      if (untouched) st.image = from;
      this.#results.set(stage.index, st.image);
      if (stage !== last) this.d.images.keep.add(await this.d.images.ensure(st.image));
    }
    const unused = Object.keys(this.d.opts.buildArgs).filter((k) => !this.#used.has(k) && !PROXY_ARGS.has(k));
    if (unused.length) this.#out(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed\n`);
    return st.image;
  }

  #labelSteps(): Instruction[] {
    return Object.entries(this.d.opts.labels).map(([k, v], i) => {
      const original = `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`;
      return { cmd: 'LABEL', original, args: `${JSON.stringify(k)}=${JSON.stringify(v)}`, flags: {}, line: -1 - i };
    });
  }

  async #from(stage: Stage, escape: string): Promise<ImageState> {
    const ref = fromImage(stage, (n) => this.#metaArgs.get(n), escape);
    for (const f of Object.keys(stage.from.flags)) if (f !== 'platform') throw invalidArgument(`FROM: unknown flag --${f} (line ${stage.from.line})`);
    const named = this.d.plan.stages.find((s) => s.name === ref.toLowerCase() && s.index < stage.index);
    if (named) return structuredClone(this.#results.get(named.index)!);
    if (ref === 'scratch') return scratchState(process.arch === 'x64' ? 'amd64' : process.arch);
    return stateOfImage(await this.d.resolveImage(ref));
  }

  /**
   * The base's ONBUILD triggers run right after FROM, as docker's builder does: each
   * one dispatched like a step of this Dockerfile (no "Step" line of its own), and the
   * stage's config loses them, so they never reach a grandchild.
   */
  async #triggers(st: StageState): Promise<void> {
    const triggers = st.image.config.config?.OnBuild ?? [];
    if (triggers.length === 0) return;
    const config = structuredClone(st.image.config);
    config.config!.OnBuild = null;
    st.image = { ...st.image, config };
    this.#out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
    for (const t of triggers) {
      this.d.opts.signal?.throwIfAborted();
      const parsed = typeof t === 'string' ? parseDockerfile(t).instructions : [];
      if (parsed.length !== 1) throw invalidArgument(`the base image has an invalid ONBUILD trigger ${JSON.stringify(t)}: a trigger is one instruction`);
      const inst = parsed[0]!;
      if (inst.cmd === 'FROM' || inst.cmd === 'MAINTAINER') throw invalidArgument(`${inst.cmd} isn't allowed as an ONBUILD trigger (in the base image)`);
      st.image = await this.#dispatch(inst, st);
      await this.d.images.hold(st.image);
    }
  }

  #lookup(st: StageState): Lookup {
    const env = envMap(st.image.config.config?.Env);
    return (n) => (env.has(n) ? env.get(n) : st.args.get(n));
  }

  /** `ARG a[=x] b[=y]`: values from --build-arg, else the default, else a meta ARG's. */
  #argPairs(inst: Instruction, fallback: Lookup, lookup: Lookup = fallback): Array<[string, string | undefined]> {
    const words = splitWords(inst.args, this.d.escape);
    if (words.length === 0) throw invalidArgument(`ARG requires at least one argument (line ${inst.line})`);
    return words.map((w) => {
      const i = w.indexOf('=');
      const name = i < 0 ? w : w.slice(0, i);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalidArgument(`ARG: invalid name "${name}" (line ${inst.line})`);
      const given = this.d.opts.buildArgs[name];
      // Declared is consumed (docker): `--build-arg NAME` unset in the client's env comes as null.
      if (given !== undefined) this.#used.add(name);
      if (given !== undefined && given !== null) return [name, given];
      if (i >= 0) return [name, expandWord(w.slice(i + 1), lookup, this.d.escape)];
      return [name, fallback(name)];
    });
  }

  async #cached(parent: ImageState, parts: string[], make: () => Promise<ImageState>): Promise<ImageState> {
    const key = BuildCache.key(stateId(parent), ...parts);
    if (!this.d.opts.noCache) {
      const hit = await this.d.cache.get(key);
      if (hit) {
        this.#out(' ---> Using cache\n');
        return hit;
      }
    }
    const s = await make();
    await this.d.cache.put(key, s);
    return s;
  }

  async #dispatch(inst: Instruction, st: StageState): Promise<ImageState> {
    const parent = st.image;
    const lookup = this.#lookup(st);
    if (inst.cmd === 'ARG') {
      const pairs = this.#argPairs(inst, (n) => this.#metaArgs.get(n), lookup);
      for (const [k, v] of pairs) st.args.set(k, v);
      // The history says what the Dockerfile declares (dockerd's dispatchArg), never a
      // --build-arg value: `docker history` and a pushed image would show it. The values in
      // effect still key the cache, so another value is another entry.
      const declared = splitWords(inst.args, this.d.escape).map((w) => {
        const i = w.indexOf('=');
        return i < 0 ? w : `${w.slice(0, i)}=${expandWord(w.slice(i + 1), lookup, this.d.escape)}`;
      });
      const text = `ARG ${declared.join(' ')}`;
      const key = `ARG ${pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`;
      return this.#cached(parent, [key], async () => withMeta(parent, `/bin/sh -c #(nop)  ${text}`, () => {}));
    }
    if (META.has(inst.cmd)) {
      // Applied once to learn the history text (the cache key), then kept or replaced by the hit.
      const ctx = { escape: this.d.escape, lookup, cmdSet: st.cmdSet };
      let text = '';
      const next = withMeta(parent, '', (c) => {
        text = applyMeta(inst, c, ctx);
      });
      st.cmdSet = ctx.cmdSet;
      next.config.history!.at(-1)!.created_by = `/bin/sh -c #(nop)  ${text}`;
      return this.#cached(parent, [text], async () => next);
    }
    switch (inst.cmd) {
      case 'WORKDIR': return this.#workdir(inst, st, lookup);
      case 'RUN': return this.#run(inst, st);
      case 'COPY':
      case 'ADD': return this.#copy(inst, st, lookup);
    }
    throw invalidArgument(`${inst.cmd} is not supported (line ${inst.line})`);
  }

  #runOptions(image: string, cmd: string[], st: StageState, env?: string[]) {
    const c = st.image.config.config ?? {};
    const o = this.d.opts;
    return { image, cmd, env: env ?? c.Env ?? [], workdir: c.WorkingDir, user: c.User, networkMode: o.networkMode, extraHosts: o.extraHosts, shmSize: o.shmSize };
  }

  /**
   * The image a work container is made from. A RUN gets the image's VOLUMEs as
   * anonymous volumes (so its changes there are discarded, as docker's are; they go
   * with the container); COPY/ADD/WORKDIR write to the image's own filesystem, so their
   * containers are made from the same layers without VOLUMEs.
   */
  async #workImage(s: ImageState, run: boolean): Promise<string> {
    if (run || !Object.keys(s.config.config?.Volumes ?? {}).length) return this.d.images.ensure(s);
    const config = structuredClone(s.config);
    delete config.config!.Volumes;
    return this.d.images.ensure({ ...s, config });
  }

  /** A container on the current state; removed unless the step failed and forcerm is off. */
  async #inContainer(st: StageState, cmd: string[], env: string[] | undefined, announce: boolean, work: (cid: string) => Promise<boolean>): Promise<ImageState | undefined> {
    // Only RUN announces its container.
    const imageId = await this.#workImage(st.image, announce);
    const cid = await this.d.work.create({ ...this.#runOptions(imageId, cmd, st, env), start: announce });
    if (announce) this.#out(` ---> Running in ${short(cid)}\n`);
    let ok = false;
    try {
      if (!(await work(cid))) return undefined;
      ok = true;
    } finally {
      // Only a failed RUN's container is worth keeping for a look (docker keeps it unless forcerm).
      const remove = ok ? this.d.opts.rm !== false || this.d.opts.forceRm : this.d.opts.forceRm || !announce;
      if (remove) {
        await this.d.work.remove(cid);
        if (announce) this.#out(` ---> Removed intermediate container ${short(cid)}\n`);
      } else if (!ok) {
        // A kept container pins its image: the failed build leaves both, as docker's does.
        this.d.images.keep.add(imageId);
      }
    }
    return undefined;
  }

  async #commit(st: StageState, cid: string, createdBy: string): Promise<ImageState> {
    const { layer, release } = await this.d.work.commitLayer(cid);
    const next = withLayer(st.image, createdBy, layer);
    try {
      await this.d.images.ensure(next);
      await this.d.images.hold(next);
    } finally {
      await release();
    }
    return next;
  }

  async #run(inst: Instruction, st: StageState): Promise<ImageState> {
    const cmd = commandOf(inst, st.image.config.config);
    if (cmd.length === 0 || (inst.json === undefined && !inst.args)) throw invalidArgument(`RUN requires at least one argument (line ${inst.line})`);
    for (const f of Object.keys(inst.flags)) throw invalidArgument(`RUN --${f} is a BuildKit feature; berth's classic builder does not support it (line ${inst.line})`);
    const env = envMap(st.image.config.config?.Env);
    const argEnv: string[] = [];
    for (const [k, v] of st.args) if (v !== undefined && !env.has(k)) argEnv.push(`${k}=${v}`);
    const proxies: string[] = [];
    for (const [k, v] of Object.entries(this.d.opts.buildArgs)) if (PROXY_ARGS.has(k) && v != null && !st.args.has(k)) proxies.push(`${k}=${v}`);
    const recorded = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ` : '';
    const createdBy = `${recorded}${cmd.join(' ')}`;
    return this.#cached(st.image, ['RUN', JSON.stringify(cmd), ...argEnv], async () => {
      let next: ImageState | undefined;
      await this.#inContainer(st, cmd, [...(st.image.config.config?.Env ?? []), ...argEnv, ...proxies], true, async (cid) => {
        const code = await this.d.work.run(cid, (t) => this.#out(t), this.d.opts.signal);
        if (code !== 0) throw new StepFailed(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
        next = await this.#commit(st, cid, createdBy);
        return true;
      });
      return next!;
    });
  }

  async #workdir(inst: Instruction, st: StageState, lookup: Lookup): Promise<ImageState> {
    const w = splitWords(inst.args, this.d.escape).map((x) => expandWord(x, lookup, this.d.escape)).join(' ');
    if (!w) throw invalidArgument(`WORKDIR requires exactly one argument (line ${inst.line})`);
    const dir = posix.normalize(w.startsWith('/') ? w : posix.join(st.image.config.config?.WorkingDir || '/', w));
    const text = `WORKDIR ${dir}`;
    return this.#cached(st.image, [text], async () => {
      const meta = withMeta(st.image, `/bin/sh -c #(nop)  ${text}`, (c) => {
        c.config!.WorkingDir = dir;
      });
      let next = meta;
      // The directory is made in the image (root's, 0755) when it is missing, as a layer.
      await this.#inContainer(st, ['/bin/sh'], undefined, false, async (cid) => {
        const r = await this.d.work.ensureDir(cid, dir);
        if (r.created) next = await this.#commit({ ...st, image: { ...st.image, config: withWorkdir(st.image, dir) } }, cid, `/bin/sh -c #(nop)  ${text}`);
        return true;
      });
      return next;
    });
  }

  async #copy(inst: Instruction, st: StageState, lookup: Lookup): Promise<ImageState> {
    const a = parseCopy(inst, lookup, this.d.escape, st.image.config.config?.WorkingDir ?? '/');
    const isAdd = inst.cmd === 'ADD';
    if (a.from !== undefined) return this.#copyFrom(inst, st, a);
    const plan = await planContextCopy(this.d.ctxDir, a, isAdd, {
      // Downloads sit next to the context, in berthd's private temp dir.
      tmpRoot: dirname(this.d.ctxDir),
      signal: this.d.opts.signal,
      progress: (current, total) => this.d.emit({ status: 'Downloading', progressDetail: total > 0 ? { current, total } : { current } }),
    });
    try {
      if (a.sources.some((s) => /^https?:\/\//i.test(s))) this.#out('\n');
      const createdBy = `/bin/sh -c #(nop) ${inst.cmd} ${plan.kind}:${plan.hash} in ${a.dest} `;
      return await this.#cached(st.image, [inst.cmd, plan.hash], async () => {
        let next!: ImageState;
        await this.#inContainer(st, ['/bin/sh'], undefined, false, async (cid) => {
          const owner = await resolveOwner(this.d.work, cid, a.chown);
          const destIsDir = a.dest.endsWith('/') || (await this.d.work.kind(cid, a.dest))?.kind === 'dir';
          const placed = await plan.place(destIsDir);
          const { dir } = await this.d.work.ensureDir(cid, placed.root);
          await this.d.work.put(cid, dir, packItems(placed.items, owner, a.chmod));
          next = await this.#commit(st, cid, createdBy);
          return true;
        });
        return next;
      });
    } finally {
      await plan.cleanup();
    }
  }

  async #copyFrom(inst: Instruction, st: StageState, a: ReturnType<typeof parseCopy>): Promise<ImageState> {
    const from = a.from!;
    const stage = this.d.plan.stages.find((s) => (s.name === from.toLowerCase() || String(s.index) === from) && this.#results.has(s.index));
    let source: ImageState;
    if (stage) source = this.#results.get(stage.index)!;
    else if (/^\d+$/.test(from)) throw invalidArgument(`COPY --from=${from}: no such build stage before this one`);
    else source = stateOfImage(await this.d.resolveImage(from));
    const sourceId = await this.#workImage(source, false);
    const createdBy = `/bin/sh -c #(nop) COPY --from=${from} ${a.sources.join(' ')} in ${a.dest} `;
    return this.#cached(st.image, ['COPY-FROM', sourceId, JSON.stringify(a)], async () => {
      const src = await this.d.work.create({ image: sourceId, cmd: ['/bin/sh'], env: [] });
      let next!: ImageState;
      try {
        await this.#inContainer(st, ['/bin/sh'], undefined, false, async (cid) => {
          const owner = await resolveOwner(this.d.work, cid, a.chown);
          await copyFromImage({ work: this.d.work, src, cid, args: a, owner });
          next = await this.#commit(st, cid, createdBy);
          return true;
        });
      } finally {
        await this.d.work.remove(src);
      }
      return next;
    });
  }
}

function withWorkdir(s: ImageState, dir: string) {
  const c = structuredClone(s.config);
  c.config = { ...(c.config ?? {}), WorkingDir: dir };
  return c;
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
